//! Where Redis is and how long the cache may wait for it: [`RedisConfig`], and
//! [`Config::redis`](crate::Config::redis), which installs the tier.

use super::SharedTier;
use crate::tier::{Tier, TierStart};
use std::sync::Arc;
use std::time::Duration;

/// Configuration of the shared tier: where Redis is and how long the cache may wait for it.
///
/// ```
/// use std::time::Duration;
/// use cached_query_runtime::{Config, RedisConfig};
///
/// let redis = RedisConfig::from_env() // `CACHED_QUERY_REDIS_URL`, if set
///     .unwrap_or_else(|| RedisConfig::new("redis://127.0.0.1:6379"))
///     .operation_timeout(Duration::from_millis(50));
/// let config = Config::new().namespace("shop").redis(redis);
/// # let _ = config;
/// ```
#[derive(Clone, Debug)]
pub struct RedisConfig {
    pub(super) url: String,
    /// Seed nodes of a Redis Cluster; empty for a single server at `url`.
    pub(super) cluster_nodes: Vec<String>,
    pub(super) operation_timeout: Duration,
    pub(super) connect_timeout: Duration,
    pub(super) l1_ttl_cap: Duration,
    pub(super) write_queue: usize,
    pub(super) breaker_failures: u32,
    pub(super) breaker_cooldown: Duration,
    pub(super) max_value_bytes: usize,
    /// Cross-instance single-flight: the lease a computing instance holds (renewed while it
    /// computes); `None`: off.
    pub(super) coalesce_lease: Option<Duration>,
    /// Reads on a connection of the calling runtime (`caller_reads.rs`).
    pub(super) caller_runtime_reads: bool,
}

impl RedisConfig {
    /// Redis at `url` (`redis://host:port/db`), with the defaults: 100 ms per operation and per
    /// connection attempt, in-memory copies kept at most 30 s, a write queue of 1,024, a breaker
    /// that opens after 5 consecutive failures for 1 s, values up to 16 MiB.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            cluster_nodes: Vec::new(),
            operation_timeout: Duration::from_millis(100),
            connect_timeout: Duration::from_millis(100),
            l1_ttl_cap: Duration::from_secs(30),
            write_queue: 1024,
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(1),
            max_value_bytes: 16 * 1024 * 1024,
            coalesce_lease: None,
            caller_runtime_reads: true,
        }
    }

    /// A Redis Cluster, reached through any of these seed nodes (`redis://host:port`; one is
    /// enough, the others are tried if it is down), with the same defaults as [`new`](Self::new).
    ///
    /// Values, tag generations and invalidations are spread over the cluster's slots: a read
    /// sends plain commands per key it needs (the value and each tag's generation) to the
    /// nodes holding them, all at once, so a hit still costs one round trip of waiting; an
    /// invalidation bumps its tags, then publishes on a sharded channel (`SPUBLISH`), and waits
    /// for every instance's acknowledgement, as with one server.
    ///
    /// ```
    /// use cached_query_runtime::{Config, RedisConfig};
    ///
    /// let redis = RedisConfig::cluster(["redis://10.0.0.1:6379", "redis://10.0.0.2:6379"]);
    /// let config = Config::new().namespace("shop").redis(redis);
    /// # let _ = config;
    /// ```
    pub fn cluster<I, S>(seed_nodes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let cluster_nodes: Vec<String> = seed_nodes.into_iter().map(Into::into).collect();
        let mut config = Self::new(cluster_nodes.first().cloned().unwrap_or_default());
        config.cluster_nodes = cluster_nodes;
        config
    }

    /// Whether this is a Redis Cluster ([`cluster`](Self::cluster)).
    ///
    /// ```
    /// use cached_query_runtime::RedisConfig;
    ///
    /// assert!(RedisConfig::cluster(["redis://10.0.0.1:6379"]).is_cluster());
    /// assert!(!RedisConfig::new("redis://10.0.0.1:6379").is_cluster());
    /// ```
    pub fn is_cluster(&self) -> bool {
        !self.cluster_nodes.is_empty()
    }

    /// The URL in the `CACHED_QUERY_REDIS_URL` environment variable, if it is set.
    pub fn from_env() -> Option<Self> {
        std::env::var("CACHED_QUERY_REDIS_URL").ok().map(Self::new)
    }

    /// The most a cached call waits for Redis before it goes on without it.
    pub fn operation_timeout(mut self, budget: Duration) -> Self {
        self.operation_timeout = budget;
        self
    }

    /// How long one connection attempt may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest an in-memory copy of a shared value is kept: it bounds how stale an instance
    /// can be if it misses invalidation messages without noticing.
    pub fn l1_ttl_cap(mut self, cap: Duration) -> Self {
        self.l1_ttl_cap = cap;
        self
    }

    /// How many writes may wait for Redis; more are dropped (and counted).
    pub fn write_queue(mut self, capacity: usize) -> Self {
        self.write_queue = capacity.max(1);
        self
    }

    /// Open the breaker after `failures` consecutive failures, for `cooldown`; then one probe
    /// decides whether it closes.
    pub fn breaker(mut self, failures: u32, cooldown: Duration) -> Self {
        self.breaker_failures = failures.max(1);
        self.breaker_cooldown = cooldown;
        self
    }

    /// Values larger than this (encoded) are neither written to nor read from Redis.
    pub fn max_value_bytes(mut self, bytes: usize) -> Self {
        self.max_value_bytes = bytes;
        self
    }
}

impl RedisConfig {
    /// Cross-instance single-flight: a key missing from memory and from Redis is computed by one
    /// instance at a time, not by each instance that misses it at once.
    ///
    /// The first instance to miss takes a lease on the key in Redis (`SET NX PX`, `lease` long,
    /// renewed every third of it while the body runs) and computes; the others wait until it
    /// releases the lease (a message on the invalidation channel's shard, or a poll every
    /// 25 ms), then read the value it wrote. If the holder fails or dies (its lease runs out),
    /// one waiter takes over; a call waits at most 30 s for another instance, and when Redis
    /// cannot be reached each instance computes on its own, as without this option. Calls
    /// answered this way are counted in [`SharedStats::remote_coalesced`](crate::SharedStats).
    ///
    /// Cost: a miss that Redis cannot answer takes two more round trips (the claim, and a read
    /// after it, since the value may have landed in between); hits cost nothing more.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cached_query_runtime::{Config, RedisConfig};
    ///
    /// let redis = RedisConfig::new("redis://127.0.0.1:6379")
    ///     .coalesce_across_instances(Duration::from_secs(2));
    /// let config = Config::new().redis(redis);
    /// # let _ = config;
    /// ```
    pub fn coalesce_across_instances(mut self, lease: Duration) -> Self {
        self.coalesce_lease = Some(lease.max(Duration::from_millis(30)));
        self
    }

    /// Whether a Redis hit on a multi-thread tokio runtime is read on a connection of that
    /// runtime (on by default; a miss's read script too). Such a read skips two hand-offs
    /// between the caller's threads and the tier's own: a Redis hit took about 40 % less time in
    /// the shared tier's benchmark on one server, about 20 % less on a cluster. A runtime's
    /// first read starts a task there that connects; until it has, or if the runtime has no IO
    /// or timers enabled (that task then panics, inside the runtime, and tokio reports it),
    /// reads go through the tier's runtime as they do with this off. Turn it off for runtimes
    /// built without IO or timers, or with `panic = "abort"`.
    ///
    /// On a cluster the runtime also connects to each master (as `CLUSTER SLOTS` names them,
    /// with the first seed node's credentials), and a Redis hit's `GET` goes straight to the
    /// master holding its key instead of through the cluster connection's routing task
    /// (counted in `SharedStats::node_reads`). A master that no longer holds the key answers
    /// `MOVED`: that read goes through the cluster connection, and the runtime's connections
    /// are made again on its next read.
    ///
    /// ```
    /// use cached_query_runtime::RedisConfig;
    ///
    /// let redis = RedisConfig::new("redis://127.0.0.1:6379").caller_runtime_reads(false);
    /// # let _ = redis;
    /// ```
    pub fn caller_runtime_reads(mut self, enabled: bool) -> Self {
        self.caller_runtime_reads = enabled;
        self
    }
}

impl crate::Config {
    /// Shares cached values and invalidations with every instance using the same Redis (and the
    /// same [`namespace`](Self::namespace)). Start-up never waits for Redis nor fails without it:
    /// the cache works from memory until Redis answers. Functions marked `local` stay in memory.
    ///
    /// ```
    /// use cached_query_runtime::{Config, RedisConfig};
    ///
    /// let config = Config::new().redis(RedisConfig::new("redis://127.0.0.1:6379"));
    /// # let _ = config;
    /// ```
    pub fn redis(mut self, redis: RedisConfig) -> Self {
        let describe = format!("{redis:?}");
        self.tier = Some(TierStart::new(describe, move |namespace, tags| {
            let tier: Arc<dyn Tier> =
                SharedTier::start(redis.clone(), namespace, Arc::clone(tags))?;
            Some(tier)
        }));
        self
    }
}
