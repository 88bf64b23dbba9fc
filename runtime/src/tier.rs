//! The seam between the engine and a shared tier (Redis with feature `redis`; a fake in the
//! engine's tests). The engine speaks only this trait and the protocol below: which tags a value
//! is checked against, in which order, how its type is fingerprinted, how much may be decoded.
//! Without a tier configured the runtime holds none, and every miss is computed in memory.
// Without `redis`, only the engine's tests build a tier: the types are there, unused.
#![cfg_attr(not(feature = "redis"), allow(dead_code))]

pub(crate) use crate::remote_hit::{Generations, Schema};
use crate::store::Pending;
use crate::value::SharedCodec;
use serde::Serialize;
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// A tier operation in flight (boxed: the trait is used as `dyn Tier`, and these run on
/// misses only).
pub(crate) type TierFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, TierError>> + Send + 'a>>;

/// A store shared between instances, behind the in-memory one.
pub(crate) trait Tier: Send + Sync {
    /// The current generations of `tags` (created if missing) and, if `want_value`, the value
    /// of `key` if it was computed under exactly those generations.
    fn read<'a>(
        &'a self,
        key: u128,
        tags: &'a [&'a str],
        entry_ttl: Duration,
        want_value: bool,
    ) -> TierFuture<'a, Remote>;
    /// [`read`](Tier::read) of several keys, their answers in the same order: one round trip
    /// for a tier that can (this default reads them one after the other).
    fn read_many<'a>(&'a self, reads: &'a [RemoteRead<'a>]) -> TierFuture<'a, Vec<Remote>> {
        Box::pin(async move {
            let mut remotes = Vec::with_capacity(reads.len());
            for read in reads {
                remotes.push(
                    self.read(read.key, read.tags, read.entry_ttl, read.want_value)
                        .await?,
                );
            }
            Ok(remotes)
        })
    }
    /// Queues a value for the shared store; never waits.
    fn write(&self, write: Write);
    /// Writes a value now, unless its tags' generations moved (`#[cache_put]`, which returns
    /// once the value is in the shared store): whether it was written. A tier that cannot
    /// write at once queues it (this default) and answers `true`.
    fn write_now(&self, write: Write) -> TierFuture<'_, bool> {
        self.write(write);
        Box::pin(async { Ok(true) })
    }
    /// Adds `by` to the integer counter of `key` (created at 0, with `ttl` set once, none when
    /// `None`) and returns its new count. This default has no shared counters.
    fn increment(&self, key: u128, by: i64, ttl: Option<Duration>) -> TierFuture<'_, i64> {
        let _ = (key, by, ttl);
        Box::pin(async { Err(TierError::Unavailable) })
    }
    /// Removes the value of `key`; whether there was one.
    fn delete(&self, key: u128) -> TierFuture<'_, bool>;
    /// Bumps `tags` in the shared store and waits until every instance has applied it.
    fn invalidate<'a>(&'a self, tags: &'a [&'a str]) -> TierFuture<'a, ()>;
    /// What the tier accepts and how long a value read from it may stay in memory.
    fn limits(&self) -> Limits;
    /// Counts a value read from the tier that could not be used.
    fn count_refused(&self);
    /// What the tier has done so far.
    fn stats(&self) -> SharedStats;
    /// Whether a miss should claim the key across instances ([`claim`](Tier::claim)) before
    /// computing it (cross-instance single-flight, opt-in).
    fn coalesces(&self) -> bool {
        false
    }
    /// Claims `key` for this instance's computation: a lease, or word that another instance
    /// holds it.
    fn claim(&self, key: u128) -> TierFuture<'_, Claim> {
        let _ = key;
        Box::pin(async { Err(TierError::Unavailable) })
    }
    /// Waits (boundedly) until another instance may have released its claim on `key`.
    fn wait_released(&self, key: u128) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let _ = key;
        Box::pin(async {})
    }
    /// Counts a call answered by another instance's computation after waiting for it.
    fn count_coalesced(&self) {}
}

/// The answer to a [`Tier::claim`].
pub(crate) enum Claim {
    /// This instance computes the key; other instances wait for it.
    Leased(Lease),
    /// Another instance is computing it.
    Held,
}

/// A claim on a key, held while this instance computes it (the tier renews it meanwhile).
/// Dropped, it is released, so that a waiting instance takes over at once (the body failed,
/// or its result is not shared); handed to the [`Write`] of the result, it is released once
/// the value is in the shared store, so that the waiters find it there.
pub(crate) struct Lease(Option<Box<dyn FnOnce() + Send + Sync>>);

impl Lease {
    pub(crate) fn new(release: impl FnOnce() + Send + Sync + 'static) -> Self {
        Self(Some(Box::new(release)))
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(release) = self.0.take() {
            release();
        }
    }
}

/// What the write of a computed value needs: the generations it was computed under, and the
/// claim on its key if this instance holds one.
pub(crate) struct WriteTicket {
    pub(crate) generations: Vec<u8>,
    pub(crate) lease: Option<Lease>,
}

/// Bounds a tier sets on the values that go through it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// A value read from the tier stays in memory at most this long.
    pub(crate) l1_ttl_cap: Duration,
    /// Larger encoded values are neither written nor decoded.
    pub(crate) max_value_bytes: usize,
}

/// One key to read (see [`Tier::read`]).
pub(crate) struct RemoteRead<'a> {
    pub(crate) key: u128,
    pub(crate) tags: &'a [&'a str],
    pub(crate) entry_ttl: Duration,
    pub(crate) want_value: bool,
}

/// What a read found in the shared store.
pub(crate) enum Remote {
    /// A value computed under the current generations of its tags.
    Hit {
        /// The generations the value was computed under, which are also the current ones.
        generations: Generations,
        /// Its type's fingerprint as stored ([`schema_of`](crate::remote_hit::schema_of)).
        schema: Schema,
        /// `None`: a cached `None`.
        payload: Option<Vec<u8>>,
        /// How long the value has left in the shared store.
        ttl_left: Option<Duration>,
    },
    /// Nothing usable; `generations` is the snapshot to write a new value under.
    Miss { generations: Vec<u8> },
}

/// A value on its way to the shared store.
pub(crate) struct Write {
    pub(crate) key: u128,
    pub(crate) tags: Vec<Arc<str>>,
    pub(crate) generations: Vec<u8>,
    pub(crate) schema: Vec<u8>,
    pub(crate) payload: Option<Vec<u8>>,
    pub(crate) ttl: Duration,
    /// Released once the value is written (see [`Lease`]).
    pub(crate) lease: Option<Lease>,
}

/// Why a shared operation did not happen.
#[derive(Clone, Debug)]
pub(crate) enum TierError {
    Unavailable,
    TimedOut,
    Failed(String),
}

impl fmt::Display for TierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TierError::Unavailable => {
                f.write_str("Redis is unavailable (circuit breaker open or not connected)")
            }
            TierError::TimedOut => f.write_str("Redis did not answer within the operation budget"),
            TierError::Failed(e) => write!(f, "Redis error: {e}"),
        }
    }
}

/// How a runtime starts its tier, kept in [`Config`](crate::Config) until the runtime is built:
/// from the namespace and the tag registry whose cells remote invalidations bump.
#[derive(Clone)]
pub(crate) struct TierStart {
    describe: String,
    start: Arc<StartFn>,
}

type StartFn = dyn Fn(&str, &Arc<crate::tags::TagRegistry>) -> Option<Arc<dyn Tier>> + Send + Sync;

impl TierStart {
    pub(crate) fn new(
        describe: String,
        start: impl Fn(&str, &Arc<crate::tags::TagRegistry>) -> Option<Arc<dyn Tier>>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Self {
            describe,
            start: Arc::new(start),
        }
    }

    pub(crate) fn start(
        &self,
        namespace: &str,
        tags: &Arc<crate::tags::TagRegistry>,
    ) -> Option<Arc<dyn Tier>> {
        (self.start)(namespace, tags)
    }
}

impl fmt::Debug for TierStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe)
    }
}

/// The state of the circuit breaker in front of Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Operations go to Redis.
    Closed,
    /// Too many recent failures: operations fail fast until the cool-down ends.
    Open,
    /// The cool-down ended: one probe is in flight.
    HalfOpen,
}

/// What the shared tier has done, for one cache instance.
///
/// ```
/// # async fn demo() {
/// if let Some(shared) = cached_query_runtime::stats().shared {
///     println!("Redis connected: {}, {} values refused", shared.connected, shared.rejected);
/// }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SharedStats {
    /// A connection to Redis is established.
    pub connected: bool,
    /// This instance listens to invalidations from the others.
    pub subscribed: bool,
    /// The breaker's state.
    pub breaker: BreakerState,
    /// Operations that failed (errors, refused connections, breaker open).
    pub errors: u64,
    /// Operations that ran out of time.
    pub timeouts: u64,
    /// Values written to Redis.
    pub writes: u64,
    /// Writes dropped because the queue was full.
    pub writes_dropped: u64,
    /// Values Redis refused to store: computed under a tag generation that has moved since
    /// (an invalidation landed while they ran), or from data read before a `#[cache_put]` of
    /// their key. Refusing them is what keeps an older value from replacing a newer one.
    pub writes_refused: u64,
    /// Values read from Redis that could not be used (foreign schema, undecodable, too big).
    pub rejected: u64,
    /// Invalidation messages received from any instance (this one included).
    pub invalidations_received: u64,
    /// Invalidations the shared store did not confirm in time (whichever API made them, the
    /// `#[cache_invalidate]` attribute included): Redis did not apply them (they are then
    /// pending), or not every instance acknowledged them. Each is also reported as an incident.
    pub invalidations_failed: u64,
    /// Invalidations waiting to be replayed: nothing is read from Redis until they are.
    pub invalidations_pending: u64,
    /// Pending invalidations applied to Redis later (replays).
    pub invalidations_replayed: u64,
    /// Calls that found another instance computing their key (cross-instance single-flight,
    /// [`RedisConfig::coalesce_across_instances`](crate::RedisConfig::coalesce_across_instances)),
    /// waited, and were answered with its value.
    pub remote_coalesced: u64,
    /// Reads sent on a connection of the calling runtime (a multi-thread tokio runtime),
    /// rather than by the tier's own runtime: see
    /// [`RedisConfig::caller_runtime_reads`](crate::RedisConfig::caller_runtime_reads).
    pub caller_runtime_reads: u64,
    /// Redis hits on a cluster read straight from the master holding their key, on a
    /// connection of the calling runtime, rather than through the cluster connection (which
    /// they fall back to when the route turned out wrong).
    pub node_reads: u64,
}

// ---------------------------------------------------------------------------------------------
// The protocol: what every instance must agree on to share a value.

/// The tags a shared value is checked against, in this order: the function's own, the epoch
/// (`invalidate_all`), then the entry's (`own`). Borrowed names, inline up to four: a Redis
/// hit builds them with no allocation and no reference count touched.
pub(crate) fn tag_names<'a>(
    function_tag: &'a str,
    own: impl Iterator<Item = &'a str>,
) -> TagNames<'a> {
    let mut names = TagNames::new();
    names.push(function_tag);
    names.push(crate::tags::EPOCH_TAG);
    names.extend(own);
    names
}

/// [`tag_names`] as a write keeps them (it outlives the call): the same order, shared names.
pub(crate) fn tag_arcs<'a>(
    function_tag: &Arc<str>,
    own: impl Iterator<Item = &'a Arc<str>>,
) -> Vec<Arc<str>> {
    static EPOCH: LazyLock<Arc<str>> = LazyLock::new(|| crate::tags::EPOCH_TAG.into());
    let mut names = vec![Arc::clone(function_tag), Arc::clone(&EPOCH)];
    names.extend(own.cloned());
    names
}

/// The names [`tag_names`] builds: up to four (the function's, the epoch and two of the
/// entry's) without an allocation.
pub(crate) type TagNames<'a> = smallvec::SmallVec<[&'a str; 4]>;

/// The stored type's fingerprint: bytes written under another type are never decoded as this one.
pub(crate) fn schema_fingerprint(shared: SharedCodec) -> Vec<u8> {
    schema_digits(shared).to_vec()
}

/// [`schema_fingerprint`] on the stack (a read compares it on every Redis hit): the schema's
/// xxh3-64 in 16 lowercase hex digits.
fn schema_digits(shared: SharedCodec) -> [u8; 16] {
    crate::hex::digits(u128::from(xxhash_rust::xxh3::xxh3_64(
        (shared.schema)().as_bytes(),
    )))
}

/// A value read from the shared store, if it is of this function's type and decodes within the
/// tier's size limit (a payload-less value is a cached `None`).
pub(crate) fn decode(
    limits: Limits,
    shared: SharedCodec,
    schema: Schema,
    payload: Option<Vec<u8>>,
) -> Option<Pending> {
    if schema != Some(schema_digits(shared)) {
        return None;
    }
    match payload {
        None => Some(Pending::nothing()),
        Some(bytes) if bytes.len() <= limits.max_value_bytes => {
            (shared.decode)(bytes, limits.max_value_bytes)
        }
        Some(_) => None,
    }
}

/// A value encoded for the shared store, if it encodes within the tier's size limit.
pub(crate) fn encode(
    limits: Limits,
    shared: SharedCodec,
    value: &(dyn Any + Send + Sync),
) -> Option<Vec<u8>> {
    (shared.encode)(value).filter(|bytes| bytes.len() <= limits.max_value_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_names_are_the_functions_the_epoch_then_the_entrys_inline_up_to_four() {
        let names = tag_names("f", ["a", "b"].into_iter());
        assert_eq!(names.as_slice(), ["f", crate::tags::EPOCH_TAG, "a", "b"]);
        assert!(!names.spilled(), "two tags of its own: no allocation");
        let many = tag_names("f", ["a", "b", "c"].into_iter());
        assert_eq!(
            many.as_slice(),
            ["f", crate::tags::EPOCH_TAG, "a", "b", "c"]
        );
        let own: Vec<Arc<str>> = vec!["a".into(), "b".into()];
        let arcs = tag_arcs(&Arc::from("f"), own.iter());
        assert!(arcs.iter().map(|a| &**a).eq(names.iter().copied()));
    }

    #[test]
    fn the_schema_fingerprint_is_its_hash_in_sixteen_hex_digits() {
        let Some(shared) = SharedCodec::of::<Vec<String>>() else {
            panic!("Vec<String> is shared");
        };
        let hash = xxhash_rust::xxh3::xxh3_64((shared.schema)().as_bytes());
        assert_eq!(
            schema_fingerprint(shared),
            format!("{hash:016x}").into_bytes()
        );
    }
}
