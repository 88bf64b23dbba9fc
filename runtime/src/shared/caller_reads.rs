//! Reads on the caller's own runtime: a Redis hit's `GET` (and, on a cluster, its tags' `GET`s),
//! and a miss's read script, sent on a connection whose driver runs where the caller runs, instead
//! of by a task on the tier's runtime that hands the answer back. That hand-off wakes another
//! thread twice a read: a Redis hit measured 18.3–18.8 µs a call through the tier's runtime against
//! 10.5–12.4 µs on the caller's on one server, 19.5–20.1 against 15.1–16.6 on a cluster
//! (`benches/shared_hit.rs`, 16 callers on 2 cores).
//!
//! Only where it is safe:
//! - on a multi-thread runtime, whose workers always drive its IO and timers (a current-thread
//!   runtime drives them only inside `Runtime::block_on`: a read from `Handle::block_on` there
//!   would wait for a driver nobody runs);
//! - once a connection is made: the first read on a runtime starts a task there that connects.
//!   Until it has, and when it cannot (Redis unreachable; a runtime built without IO or timers,
//!   where the task panics and tokio keeps the panic in the task), reads go to the tier's
//!   runtime as before;
//! - while the breaker is closed: its probes stay on the tier's runtime, whose tasks record an
//!   outcome even when the caller that asked is gone.
//!
//! A read that fails without Redis answering drops the runtime's connection (counted by the
//! breaker like any failure; the read is sent again through the tier's runtime): the next read
//! there connects again.

use super::Counters;
use super::config::RedisConfig;
use super::connection::{Connection, cluster_client, cluster_config};
use super::node_routes::NodeRoutes;
use super::shared_incident;
use crate::fast_map::FastMap;
use redis::cluster::{ClusterClient, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, ConnectionInfo, IntoConnectionInfo};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};
use tokio::runtime::{Handle, Id, RuntimeFlavor};

/// Runtimes remembered at most: past that the table starts over, and each runtime connects
/// again (a program that keeps creating runtimes must not grow it without end).
const MAX_RUNTIMES: usize = 64;

/// The connections of the runtimes this tier's callers run on.
pub(super) struct CallerConnections {
    /// `None`: reads never run on the callers' runtimes (opted out, a bad URL).
    connector: Option<Connector>,
    /// How long after a failed attempt a runtime tries to connect again.
    retry_after: Duration,
    by_runtime: Arc<RwLock<FastMap<Id, Slot>>>,
}

/// How a cluster's masters are reached directly: the first seed node's credentials, the
/// connections' timeouts, and where the reads they answer are counted.
#[derive(Clone)]
struct NodeSeed {
    seed: ConnectionInfo,
    config: AsyncConnectionConfig,
    counters: Arc<Counters>,
    /// How long a runtime whose routes could not be learned reads without them.
    retry_after: Duration,
}

/// How a runtime's connection is made.
#[derive(Clone)]
enum Connector {
    /// One server: a multiplexed connection (no reconnection of its own: a read that fails on
    /// it unanswered drops it).
    Single(redis::Client, AsyncConnectionConfig),
    /// A cluster: its connection (which follows the slots and reconnects to nodes itself),
    /// and how to reach its masters directly (`node_routes.rs`): the first seed node's
    /// credentials, and the connections' timeouts.
    Cluster(ClusterClient, ClusterConfig, Option<Box<NodeSeed>>),
}

impl Connector {
    async fn connect(self) -> redis::RedisResult<Connection> {
        match self {
            Connector::Single(client, config) => client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map(Connection::Caller),
            Connector::Cluster(client, config, nodes) => {
                let mut cluster = client.get_async_connection_with_config(config).await?;
                Ok(match nodes {
                    Some(nodes) => {
                        let routes = routes(&mut cluster, &nodes).await.unwrap_or_else(|| {
                            NodeRoutes::none_until(nodes.retry_after, Arc::clone(&nodes.counters))
                        });
                        Connection::Routed(cluster, Arc::new(routes))
                    }
                    None => Connection::Cluster(cluster),
                })
            }
        }
    }
}

/// The cluster's masters and slots as `cluster` reports them, connected to; `None` if they
/// cannot be (the cluster connection alone serves the reads then).
async fn routes(cluster: &mut ClusterConnection, nodes: &NodeSeed) -> Option<NodeRoutes> {
    let slots: redis::Value = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(cluster)
        .await
        .ok()?;
    let counters = Arc::clone(&nodes.counters);
    NodeRoutes::connect(&slots, &nodes.seed, &nodes.config, counters).await
}

enum Slot {
    /// A task on the runtime is connecting.
    Connecting,
    Ready(Connection),
    /// The last attempt failed: the next one after this.
    Failed {
        retry_at: Instant,
    },
}

impl CallerConnections {
    /// For the server or cluster of `config`, unless it turns such reads off.
    pub(super) fn new(config: &RedisConfig, counters: &Arc<Counters>) -> CallerConnections {
        let timeouts = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.operation_timeout));
        let connector = if !config.caller_runtime_reads {
            None
        } else if config.is_cluster() {
            let seed = config.cluster_nodes.first();
            let nodes = seed
                .and_then(|seed| seed.as_str().into_connection_info().ok())
                .map(|seed| {
                    Box::new(NodeSeed {
                        seed,
                        config: timeouts,
                        counters: Arc::clone(counters),
                        retry_after: config.breaker_cooldown,
                    })
                });
            (cluster_client(config).ok())
                .map(|client| Connector::Cluster(client, cluster_config(config), nodes))
        } else {
            (redis::Client::open(config.url.as_str()).ok())
                .map(|client| Connector::Single(client, timeouts))
        };
        CallerConnections {
            connector,
            retry_after: config.breaker_cooldown,
            by_runtime: Arc::default(),
        }
    }

    /// The connection of the runtime this call runs on, if it has one ready; if it has none
    /// and may, a task there starts making it (this call goes on without it).
    pub(super) fn current(&self) -> Option<Connection> {
        let connector = self.connector.as_ref()?;
        let handle = Handle::try_current().ok()?;
        if handle.runtime_flavor() != RuntimeFlavor::MultiThread {
            return None;
        }
        let id = handle.id();
        match self.read_table().get(&id) {
            Some(Slot::Ready(connection)) if !connection.is_stale() => {
                return Some(connection.clone());
            }
            Some(slot) if !slot.may_connect(Instant::now()) => return None,
            _ => {}
        }
        self.connect(&handle, id, connector);
        None
    }

    /// Starts connecting `handle`'s runtime, unless another call already has.
    fn connect(&self, handle: &Handle, id: Id, connector: &Connector) {
        {
            let mut table = self
                .by_runtime
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if table
                .get(&id)
                .is_some_and(|slot| !slot.may_connect(Instant::now()))
            {
                return;
            }
            if table.len() >= MAX_RUNTIMES {
                table.clear();
            }
            table.insert(id, Slot::Connecting);
        }
        let connector = connector.clone();
        let (table, retry_after) = (Arc::clone(&self.by_runtime), self.retry_after);
        handle.spawn(async move {
            let slot = match connector.connect().await {
                Ok(connection) => Slot::Ready(connection),
                Err(e) => {
                    shared_incident("caller_connection_failed", &e.to_string());
                    Slot::Failed {
                        retry_at: Instant::now() + retry_after,
                    }
                }
            };
            // Unless the table started over meanwhile (it stays within its bound).
            let mut table = table.write().unwrap_or_else(PoisonError::into_inner);
            if let Some(waiting @ Slot::Connecting) = table.get_mut(&id) {
                *waiting = slot;
            }
        });
    }

    /// Drops the current runtime's connection (a read on it failed without Redis answering):
    /// the next read there connects again.
    pub(super) fn forget_current(&self) {
        if let Ok(handle) = Handle::try_current() {
            let mut table = self
                .by_runtime
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(Slot::Ready(_)) = table.get(&handle.id()) {
                table.remove(&handle.id());
            }
        }
    }

    fn read_table(&self) -> std::sync::RwLockReadGuard<'_, FastMap<Id, Slot>> {
        self.by_runtime
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Slot {
    /// Whether a call finding this slot may start a new connection attempt.
    fn may_connect(&self, now: Instant) -> bool {
        match self {
            Slot::Connecting => false,
            // A cluster's routes to its masters turned out wrong: made again.
            Slot::Ready(connection) => connection.is_stale(),
            Slot::Failed { retry_at } => now >= *retry_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing listens on port 1: every attempt fails at once.
    fn unreachable() -> CallerConnections {
        CallerConnections::new(&RedisConfig::new("redis://127.0.0.1:1"), &Arc::default())
    }

    fn runtimes_known(connections: &CallerConnections) -> usize {
        connections.read_table().len()
    }

    fn multi_thread() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn only_multi_thread_runtimes_connect_and_only_when_turned_on() {
        let connections = unreachable();
        let current_thread = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert!(
            current_thread
                .block_on(async { connections.current() })
                .is_none()
        );
        assert_eq!(
            runtimes_known(&connections),
            0,
            "no attempt on a current-thread runtime"
        );
        assert!(connections.current().is_none(), "outside a runtime");
        assert_eq!(runtimes_known(&connections), 0);

        let off = CallerConnections::new(
            &RedisConfig::new("redis://127.0.0.1:1").caller_runtime_reads(false),
            &Arc::default(),
        );
        assert!(multi_thread().block_on(async { off.current() }).is_none());
        assert_eq!(runtimes_known(&off), 0, "turned off: no attempt");

        assert!(
            multi_thread()
                .block_on(async { connections.current() })
                .is_none()
        );
        assert_eq!(
            runtimes_known(&connections),
            1,
            "a multi-thread runtime starts one"
        );
    }

    #[test]
    fn a_failed_attempt_waits_before_the_next_one() {
        let connections = unreachable();
        let runtime = multi_thread();
        let id = runtime.handle().id();
        runtime.block_on(async {
            assert!(connections.current().is_none());
            // The attempt fails (nothing listens); wait for its task to say so.
            while !matches!(connections.read_table().get(&id), Some(Slot::Failed { .. })) {
                tokio::task::yield_now().await;
            }
            assert!(connections.current().is_none());
            assert!(
                matches!(connections.read_table().get(&id), Some(Slot::Failed { .. })),
                "not tried again before the cool-down"
            );
        });
        let later = Instant::now() + connections.retry_after;
        let table = connections.read_table();
        assert!(table.get(&id).is_some_and(|slot| slot.may_connect(later)));
    }

    #[test]
    fn past_the_bound_the_table_starts_over() {
        let connections = unreachable();
        let runtimes: Vec<_> = (0..=MAX_RUNTIMES).map(|_| multi_thread()).collect();
        for (i, runtime) in runtimes.iter().enumerate() {
            runtime.block_on(async { connections.current() });
            let known = runtimes_known(&connections);
            assert!(known <= MAX_RUNTIMES, "{known} runtimes remembered");
            if i == MAX_RUNTIMES {
                assert_eq!(known, 1, "started over with the newest");
            }
        }
    }
}
