//! The shared tier (feature `redis`): Redis behind the in-memory store (DESIGN.md §9).
//!
//! * Values live in Redis strings (`{ns}:v:{key}`, one `GET` reads one): a header line with the
//!   tag generations they were computed under, the put fence, a schema fingerprint, the kind
//!   (value or cached `None`) and the expiry, then the bincode payload (`scripts.rs`). Tag
//!   generations live in `{ns}:t:{tag}`, starting from a random value so that an evicted and
//!   recreated counter cannot match an old snapshot.
//! * A hit costs one round trip of plain commands (`plain_read.rs`): the value's `GET`, compared
//!   with the tags' generations this instance last read (`mirror.rs`, kept current by the
//!   invalidation broadcast), or read with them when it does not know them; anything else, one
//!   more: a script reads the tags' generations (creating missing ones) and returns the value only
//!   if it was computed under exactly those generations. On a Redis Cluster (`cluster.rs`) every
//!   key is read by its own single-key command, all at once, and compared here.
//! * Cross-instance single-flight (opt-in, `coalesce.rs`): leases on cold keys.
//! * Writes go through a bounded queue to a writer task: off the request path, dropped and
//!   counted when full. The write script refuses a value whose generations changed meanwhile.
//! * Invalidation is one script (`INCR` each tag, then `PUBLISH`). Every instance subscribes,
//!   bumps its local cells (dropping its in-memory copies) and acknowledges; the invalidating
//!   call waits for as many acknowledgements as `PUBLISH` reported receivers, within the budget.
//! * On (re)subscription an instance bumps its shared epoch, a tag only shared functions'
//!   entries carry: messages sent while it was not listening are lost, so what it holds of the
//!   shared tier is treated as stale (`local` functions and memory-only stores keep theirs).
//! * Every operation runs on a small runtime of our own (the tier outlives any caller's runtime),
//!   under a timeout, behind a circuit breaker, except reads on a multi-thread caller's runtime
//!   that has a connection of its own (`caller_reads.rs`): those run in the caller's task, under
//!   the same timeout and breaker. A failure is a miss and a counter, never the caller's error.

mod breaker;
mod caller_reads;
mod cluster;
mod coalesce;
mod config;
mod connection;
mod counter;
mod invalidation;
mod listener;
mod mirror;
mod node_routes;
mod operation;
mod pending;
mod plain_read;
mod protocol;
mod put;
mod scripts;
#[cfg(test)]
mod test_redis;
mod tier_impl;
mod write_behind;

pub use config::RedisConfig;

use crate::tags::TagRegistry;
use crate::tier::{SharedStats, Write};
use breaker::Breaker;
use caller_reads::CallerConnections;
use cluster::ClusterScripts;
use connection::{Connection, Subscriber, connect};
use pending::Pending;
use redis::Script;
use scripts::{INVALIDATE, WRITE};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// What the tier has counted, and whether its last operation reached Redis. Shared with the
/// tasks that run operations, which record their own outcomes.
#[derive(Default)]
struct Counters {
    connected: AtomicBool,
    errors: AtomicU64,
    timeouts: AtomicU64,
    writes: AtomicU64,
    writes_dropped: AtomicU64,
    writes_refused: AtomicU64,
    rejected: AtomicU64,
    invalidations_received: AtomicU64,
    invalidations_failed: AtomicU64,
    invalidations_replayed: AtomicU64,
    remote_coalesced: AtomicU64,
    caller_reads: AtomicU64,
    node_reads: AtomicU64,
}

/// The shared tier of one cache instance.
pub(crate) struct SharedTier {
    /// This tier, for the tasks it starts from `&self` (the `Tier` seam borrows).
    me: Weak<SharedTier>,
    config: RedisConfig,
    /// Shared with the reads that name keys in their own tasks.
    prefix: Arc<str>,
    instance: u64,
    runtime: tokio::runtime::Runtime,
    connection: Option<Connection>,
    subscriber: Option<Subscriber>,
    breaker: Arc<Breaker>,
    counters: Arc<Counters>,
    subscribed: AtomicBool,
    /// The tags' generations as last read, kept current by the broadcast (`mirror.rs`).
    mirror: mirror::Mirror,
    next_message: AtomicU64,
    acks: Mutex<HashMap<u64, watch::Sender<u64>>>,
    /// Invalidations not applied to Redis yet.
    pending: Pending,
    /// A task is running replay rounds.
    flushing: AtomicBool,
    /// Sent when such a task ends: whether it left nothing pending.
    flushed: watch::Sender<bool>,
    writes: mpsc::Sender<Write>,
    read_script: Script,
    read_many_script: Script,
    write_script: Script,
    invalidate_script: Script,
    cluster_scripts: ClusterScripts,
    /// Calls waiting for another instance to release its lease on a key.
    lease_waiters: coalesce::Waiters,
    /// Reads' connections on the callers' runtimes.
    caller_connections: CallerConnections,
}

/// A random-enough 62-bit number (tag generation starts, instance ids) without a random crate:
/// `RandomState` is seeded from the OS once per process and perturbed per instance.
fn random_u62() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = RandomState::new();
    state.hash_one((COUNTER.fetch_add(1, Relaxed), Instant::now())) >> 2
}

/// A value's key name, `{prefix}:v:{key}` (the key in 32 hex digits): the one place it is
/// spelled. Also written straight into a command's arguments, without a `String` of its own (a
/// Redis hit builds one).
pub(super) struct ValueKeyName<'a> {
    pub(super) prefix: &'a str,
    pub(super) key: u128,
}

impl ValueKeyName<'_> {
    /// The key in 32 lowercase hex digits: every Redis hit names its value.
    fn digits(&self) -> [u8; 32] {
        crate::hex::digits(self.key)
    }
}

impl std::fmt::Display for ValueKeyName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.digits();
        // Hex digits are ASCII.
        let digits = std::str::from_utf8(&digits).map_err(|_| std::fmt::Error)?;
        write!(f, "{}:v:{digits}", self.prefix)
    }
}

impl redis::ToRedisArgs for ValueKeyName<'_> {
    fn write_redis_args<W: ?Sized + redis::RedisWrite>(&self, out: &mut W) {
        use std::io::Write as _;
        let mut arg = out.writer_for_next_arg();
        // Writing into the command's own buffer cannot fail.
        let _ = arg.write_all(self.prefix.as_bytes());
        let _ = arg.write_all(b":v:");
        let _ = arg.write_all(&self.digits());
    }
}

impl SharedTier {
    /// Starts the tier. Never fails: an unparsable URL or an unreachable server makes every
    /// operation a counted failure, and the cache works from memory.
    pub(crate) fn start(
        config: RedisConfig,
        namespace: &str,
        tags: Arc<TagRegistry>,
    ) -> Option<Arc<Self>> {
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("cached-query-redis")
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                shared_incident("tier_not_started", &e.to_string());
                return None;
            }
        };
        let (subscriber, connection) = connect(&config, &runtime);
        let counters = Arc::<Counters>::default();
        let caller_connections = CallerConnections::new(&config, &counters);
        let (writes, queue) = mpsc::channel(config.write_queue);
        let prefix = if namespace.is_empty() {
            "cq".to_string()
        } else {
            namespace.to_string()
        };
        let tier = Arc::new_cyclic(|me| SharedTier {
            me: me.clone(),
            breaker: Arc::new(Breaker::new(
                config.breaker_failures,
                config.breaker_cooldown,
                // The probe's operation ends within the budget; twice that is a lost probe.
                config.operation_timeout.saturating_mul(2),
            )),
            config,
            prefix: prefix.into(),
            instance: random_u62(),
            connection,
            subscriber,
            counters,
            subscribed: AtomicBool::new(false),
            mirror: mirror::Mirror::default(),
            next_message: AtomicU64::new(0),
            acks: Mutex::default(),
            pending: Pending::default(),
            flushing: AtomicBool::new(false),
            flushed: watch::Sender::new(true),
            writes,
            read_script: Script::new(&scripts::read()),
            read_many_script: Script::new(&scripts::read_many()),
            write_script: Script::new(WRITE),
            invalidate_script: Script::new(INVALIDATE),
            cluster_scripts: ClusterScripts::default(),
            lease_waiters: coalesce::Waiters::default(),
            caller_connections,
            runtime,
        });
        tier.runtime.spawn(Arc::clone(&tier).write_behind(queue));
        tier.runtime.spawn(Arc::clone(&tier).listen(tags));
        tier.runtime.spawn(Arc::clone(&tier).replay_in_background());
        Some(tier)
    }

    pub(crate) fn l1_ttl_cap(&self) -> Duration {
        self.config.l1_ttl_cap
    }

    pub(crate) fn max_value_bytes(&self) -> usize {
        self.config.max_value_bytes
    }

    pub(crate) fn count_rejected(&self) {
        self.counters.rejected.fetch_add(1, Relaxed);
        shared_incident("value_refused", "foreign schema, undecodable or too large");
    }

    fn value_key(&self, key: u128) -> String {
        let name = ValueKeyName {
            prefix: &self.prefix,
            key,
        };
        // Sized up front: one allocation (a miss's script and every write build one).
        let mut text = String::with_capacity(self.prefix.len() + 35);
        let _ = write!(text, "{name}");
        text
    }

    fn lease_key(&self, key: u128) -> String {
        format!("{}:l:{key:032x}", self.prefix)
    }

    fn tag_key(&self, tag: &str) -> String {
        format!("{}:t:{tag}", self.prefix)
    }

    /// A pub/sub channel. On a cluster both channels carry the same hash tag, so that they live
    /// on one shard: an instance's sharded subscriptions go to one node.
    fn channel(&self, kind: &str) -> String {
        if self.is_cluster() {
            format!("{{{}}}:{kind}", self.prefix)
        } else {
            format!("{}:{kind}", self.prefix)
        }
    }

    fn is_cluster(&self) -> bool {
        self.config.is_cluster()
    }

    pub(crate) fn stats(&self) -> SharedStats {
        SharedStats {
            connected: self.counters.connected.load(Relaxed),
            subscribed: self.subscribed.load(Relaxed),
            breaker: self.breaker.state(),
            errors: self.counters.errors.load(Relaxed),
            timeouts: self.counters.timeouts.load(Relaxed),
            writes: self.counters.writes.load(Relaxed),
            writes_dropped: self.counters.writes_dropped.load(Relaxed),
            writes_refused: self.counters.writes_refused.load(Relaxed),
            rejected: self.counters.rejected.load(Relaxed),
            invalidations_received: self.counters.invalidations_received.load(Relaxed),
            invalidations_failed: self.counters.invalidations_failed.load(Relaxed),
            invalidations_pending: self.pending.len() as u64,
            invalidations_replayed: self.counters.invalidations_replayed.load(Relaxed),
            remote_coalesced: self.counters.remote_coalesced.load(Relaxed),
            caller_runtime_reads: self.counters.caller_reads.load(Relaxed),
            node_reads: self.counters.node_reads.load(Relaxed),
        }
    }
}

/// An incident of the shared tier: a breaker transition, a refused value, a failed operation.
#[inline]
pub(crate) fn shared_incident(what: &'static str, detail: &str) {
    #[cfg(feature = "tracing")]
    tracing::event!(
        target: "cached_query",
        tracing::Level::WARN,
        incident = what,
        detail,
        "shared store"
    );
    #[cfg(feature = "metrics")]
    metrics::counter!("cached_query_shared_incidents_total", "incident" => what).increment(1);
    let _ = (what, detail);
}
