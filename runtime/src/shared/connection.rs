//! The connection every operation shares: one server's `ConnectionManager`, or a Redis Cluster's
//! connection (which routes each command to the node holding its key). Both are created lazily:
//! nothing here waits for Redis.

use super::config::RedisConfig;
use super::node_routes::NodeRoutes;
use super::shared_incident;
use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};
use std::sync::Arc;

/// A connection to one server or to a cluster; cloning it is cheap (all multiplex).
#[derive(Clone)]
pub(super) enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
    /// One server, on the calling runtime (`caller_reads.rs`).
    Caller(MultiplexedConnection),
    /// A cluster on the calling runtime, with connections to its masters for a hit's `GET`
    /// (`node_routes.rs`).
    Routed(ClusterConnection, Arc<NodeRoutes>),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Single(c) => c.req_packed_command(cmd),
            Connection::Cluster(c) | Connection::Routed(c, _) => c.req_packed_command(cmd),
            Connection::Caller(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(c) | Connection::Routed(c, _) => {
                c.req_packed_commands(pipeline, offset, count)
            }
            Connection::Caller(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(c) => c.get_db(),
            Connection::Cluster(c) | Connection::Routed(c, _) => c.get_db(),
            Connection::Caller(c) => c.get_db(),
        }
    }
}

impl Connection {
    /// Whether it should be made again (a cluster's routes to its masters turned out wrong).
    pub(super) fn is_stale(&self) -> bool {
        matches!(self, Connection::Routed(_, routes) if routes.is_stale())
    }
}

/// Where the listener subscribes: one server's client, or a cluster's seed nodes.
#[derive(Clone)]
pub(super) enum Subscriber {
    Single(redis::Client),
    /// The seed nodes (the listener builds its own client: it needs RESP3 and a push channel).
    Cluster(Vec<String>),
}

/// The subscriber and the shared connection, created lazily on `runtime`. `None`s for a URL
/// that does not parse (every operation then fails fast and is counted).
pub(super) fn connect(
    config: &RedisConfig,
    runtime: &tokio::runtime::Runtime,
) -> (Option<Subscriber>, Option<Connection>) {
    let _entered = runtime.enter();
    if config.is_cluster() {
        return connect_cluster(config);
    }
    let client = match redis::Client::open(config.url.as_str()) {
        Ok(client) => client,
        Err(e) => {
            shared_incident("invalid_url", &e.to_string());
            return (None, None);
        }
    };
    let manager_config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(config.connect_timeout))
        .set_response_timeout(Some(config.operation_timeout))
        .set_number_of_retries(1);
    let connection = ConnectionManager::new_lazy_with_config(client.clone(), manager_config)
        .ok()
        .map(Connection::Single);
    (Some(Subscriber::Single(client)), connection)
}

fn connect_cluster(config: &RedisConfig) -> (Option<Subscriber>, Option<Connection>) {
    let client = match cluster_client(config) {
        Ok(client) => client,
        Err(e) => {
            shared_incident("invalid_url", &e.to_string());
            return (None, None);
        }
    };
    let connection = client.get_pending_async_connection_with_config(cluster_config(config));
    (
        Some(Subscriber::Cluster(config.cluster_nodes.clone())),
        Some(Connection::Cluster(connection)),
    )
}

/// The client of a cluster's seed nodes, with the budget's timeouts and one retry.
pub(super) fn cluster_client(config: &RedisConfig) -> redis::RedisResult<ClusterClient> {
    ClusterClientBuilder::new(config.cluster_nodes.iter().map(String::as_str))
        .connection_timeout(config.connect_timeout)
        .response_timeout(config.operation_timeout)
        .retries(1)
        .build()
}

/// A cluster connection's timeouts: the budget's.
pub(super) fn cluster_config(config: &RedisConfig) -> ClusterConfig {
    ClusterConfig::new()
        .set_connection_timeout(config.connect_timeout)
        .set_response_timeout(config.operation_timeout)
}
