//! Integer counters in the cache: `increment` and `decrement` (rate limits, view counts).
//!
//! In memory a counter is an entry holding an atomic integer ([`CounterCell`]), changed in
//! place; creating one is serialised per key (a striped lock), so concurrent first increments
//! never lose one another's counts. Its TTL is set when it is created and not extended by later
//! increments. With a shared tier the count lives in Redis (`INCRBY`, the TTL set once, in one
//! script) and this instance keeps a copy for `get`; when Redis fails, the instance counts in
//! its own memory meanwhile (the failure is counted by the tier). Counters carry no tags: an
//! invalidation does not reset them; their TTL, `forget_key` and `pull` do.

use crate::bounds::KeyArg;
use crate::manual::key_of;
use crate::runtime::{Runtime, runtime};
use crate::site::is_forever;
use crate::stats::Counters;
use crate::store::{Implicit, NewEntry, OriginSpec, OwnStamps, Pending, Stamps};
use crate::value::CounterCell;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Serialises the creation of counters, per stripe of keys.
static CREATING: [Mutex<()>; 16] = [const { Mutex::new(()) }; 16];

/// Adds `by` to the integer counter under `key` and returns its new count. A counter that does
/// not exist starts at 0 (or at an `i64` stored under the key with `put`) and lives for `ttl`
/// from then on ([`FOREVER`](crate::FOREVER): it never expires); later increments do not extend
/// it. Atomic: concurrent increments are all counted, in memory and, with a shared tier, across
/// instances (`INCRBY`). An increment that would overflow `i64` changes nothing. Read the count
/// with [`get::<_, i64>`](crate::get); a key that cannot be encoded counts nothing and returns
/// `by`.
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let minute = Duration::from_secs(60);
/// cached_query_runtime::increment(&("logins", 42u64), 1, minute).await;
/// let count = cached_query_runtime::increment(&("logins", 42u64), 1, minute).await;
/// assert_eq!(count, 2);
/// assert_eq!(cached_query_runtime::get::<_, i64>(&("logins", 42u64)).await, Some(2));
/// # }
/// ```
pub async fn increment<K: KeyArg + ?Sized>(key: &K, by: i64, ttl: Duration) -> i64 {
    let key = key_of(key);
    let Some(hash) = key.hash else {
        return by;
    };
    let runtime = runtime();
    let counters = runtime.counters(key.function);
    if let Some(tier) = runtime.tier.as_deref() {
        let shared_ttl = (!is_forever(ttl)).then_some(ttl);
        if let Ok(count) = tier.increment(hash, by, shared_ttl).await {
            let memory_ttl = ttl.min(tier.limits().l1_ttl_cap);
            keep_copy(runtime, counters, hash, count, memory_ttl);
            return count;
        }
    }
    add_in_memory(runtime, counters, hash, by, ttl)
}

/// [`increment`] by `-by`.
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let hour = Duration::from_secs(3600);
/// cached_query_runtime::increment(&"seats-left", 10, hour).await;
/// assert_eq!(cached_query_runtime::decrement(&"seats-left", 3, hour).await, 7);
/// # }
/// ```
pub async fn decrement<K: KeyArg + ?Sized>(key: &K, by: i64, ttl: Duration) -> i64 {
    increment(key, by.saturating_neg(), ttl).await
}

/// The in-memory counter: added to in place, created once (under its stripe's lock).
fn add_in_memory(
    runtime: &Runtime,
    counters: &'static Counters,
    hash: u128,
    by: i64,
    ttl: Duration,
) -> i64 {
    if let Some(count) = add_to_existing(runtime, hash, by) {
        return count;
    }
    let stripe = &CREATING[(hash as usize) % CREATING.len()];
    let _creating = stripe.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(count) = add_to_existing(runtime, hash, by) {
        return count;
    }
    let now = runtime.now_nanos();
    let start = runtime
        .store
        .get(hash)
        .filter(|entry| entry.is_fresh(now))
        .and_then(|entry| entry.value.downcast_ref::<i64>().copied())
        .unwrap_or(0);
    let count = start.checked_add(by).unwrap_or(start);
    insert(runtime, counters, hash, count, ttl);
    count
}

/// Adds `by` to the fresh counter under `hash`, if there is one.
fn add_to_existing(runtime: &Runtime, hash: u128, by: i64) -> Option<i64> {
    let entry = runtime.store.get(hash)?;
    if !entry.is_fresh(runtime.now_nanos()) {
        return None;
    }
    Some(entry.value.downcast_ref::<CounterCell>()?.add(by))
}

/// Keeps the shared tier's count in memory, for `get`.
fn keep_copy(
    runtime: &Runtime,
    counters: &'static Counters,
    hash: u128,
    count: i64,
    ttl: Duration,
) {
    let kept = runtime
        .store
        .get(hash)
        .filter(|entry| entry.is_fresh(runtime.now_nanos()));
    match kept
        .as_deref()
        .and_then(|entry| entry.value.downcast_ref::<CounterCell>())
    {
        Some(cell) => cell.set(count),
        None => insert(runtime, counters, hash, count, ttl),
    }
}

fn insert(runtime: &Runtime, counters: &'static Counters, hash: u128, count: i64, ttl: Duration) {
    let now = runtime.now_nanos();
    let nanos = u64::try_from(ttl.as_nanos()).unwrap_or(u64::MAX);
    // No tags: invalidations do not reset counters (nor do they in Redis). Counters share the
    // manual API's keys, so `age_of` answers for them too: they keep their age.
    let origin = runtime.origin(OriginSpec {
        counters,
        implicit: Implicit::Nothing,
        serve_on_error_ms: None,
        revalidate_ms: None,
        keeps_age: true,
    });
    runtime.store.insert(
        hash,
        NewEntry {
            value: Pending::new(CounterCell::new(count)),
            value_size: std::mem::size_of::<CounterCell>(),
            stamps: Stamps::take(origin, OwnStamps::new()),
            stored_at_nanos: now,
            expires_at_nanos: now.saturating_add(nanos),
            compute_nanos: 0,
        },
    );
}
