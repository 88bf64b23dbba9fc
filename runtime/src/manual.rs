//! The manual API, for caching what is not a function call: `remember`, `get`, `put`,
//! `put_forever`, `pull`, `forget_key`, `has`, `ttl_of`, `age_of` and the many-key forms
//! (counters are in `counter.rs`).
//!
//! Manual entries live in the same stores as functions' entries (the shared one included),
//! carry the same tags, and are counted in [`stats`](crate::stats) under the name
//! `cached_query::manual`. A key is any `Serialize` value, encoded like a function's arguments;
//! the value's type is not part of it: reading a key as another type than it was stored with is
//! a miss.

use crate::bounds::{CacheValue, KeyArg};
use crate::engine::{Access, Enter, cooperate, enter, enter_as};
use crate::key::{Key, KeyBuilder};
use crate::policy::ValuePolicy;
use crate::runtime::{Runtime, runtime};
use crate::site::{FOREVER, Site, SiteConfig};
use crate::stats::bump;
use crate::store::Entry;
use crate::tags::key_drop_tag;
use crate::value::codec;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The one call site every manual entry belongs to.
pub(crate) static MANUAL: Site = Site::keeping_ages(SiteConfig {
    name: Some("cached_query::manual"),
    ..SiteConfig::DEFAULT
});

pub(crate) fn key_of<K: KeyArg + ?Sized>(key: &K) -> Key {
    let mut builder = KeyBuilder::new(&MANUAL, || {});
    builder.arg(key);
    builder.finish()
}

/// The value cached under `key`, or the result of `compute`, which is then cached for `ttl`
/// under `tags`. Concurrent calls with the same key run `compute` once.
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let report: String = cached_query_runtime::remember(
///     &("daily-report", 2026_11_21),
///     Duration::from_secs(600),
///     &["reports"],
///     || async { "expensive report".to_string() },
/// )
/// .await;
/// # assert_eq!(report, "expensive report");
/// # }
/// ```
pub async fn remember<K, V, F, Fut>(key: &K, ttl: Duration, tags: &[&str], compute: F) -> V
where
    K: KeyArg + ?Sized,
    V: CacheValue,
    F: FnOnce() -> Fut,
    Fut: Future<Output = V>,
{
    cooperate().await;
    match enter(&MANUAL, key_of(key), codec::<ValuePolicy, V>()) {
        Enter::Hit(value) => value,
        Enter::Miss(mut miss) => {
            for tag in tags {
                miss.tag(tag);
            }
            miss.set_ttl(ttl);
            miss.run(compute()).await
        }
    }
}

/// The fresh value cached under `key`, if there is one of type `V` (counted as a hit or a miss).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let missing: Option<u64> = cached_query_runtime::get(&"never-stored").await;
/// assert_eq!(missing, None);
/// # }
/// ```
pub async fn get<K, V>(key: &K) -> Option<V>
where
    K: KeyArg + ?Sized,
    V: CacheValue,
{
    cooperate().await;
    match enter_as(
        &MANUAL,
        key_of(key),
        codec::<ValuePolicy, V>(),
        Access::Read,
    ) {
        Enter::Hit(value) => Some(value),
        // A read takes no calling mode: never a removal.
        Enter::Miss(_) => None,
    }
}

/// Stores `value` under `key` for `ttl`, tagged `tags`, replacing what was there.
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// cached_query_runtime::put(&"greeting", "hello".to_string(), Duration::from_secs(60), &[]).await;
/// let cached: Option<String> = cached_query_runtime::get(&"greeting").await;
/// assert_eq!(cached.as_deref(), Some("hello"));
/// # }
/// ```
pub async fn put<K, V>(key: &K, value: V, ttl: Duration, tags: &[&str])
where
    K: KeyArg + ?Sized,
    V: CacheValue,
{
    if let Enter::Miss(mut miss) = enter_as(
        &MANUAL,
        key_of(key),
        codec::<ValuePolicy, V>(),
        Access::Store,
    ) {
        for tag in tags {
            miss.tag(tag);
        }
        miss.set_ttl(ttl);
        let _: V = miss.run(async { value }).await;
    }
}

/// [`put`] for an entry that never expires ([`FOREVER`]): it stays until it is evicted,
/// invalidated through one of its tags, or removed.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// cached_query_runtime::put_forever(&"site-name", "Example".to_string(), &["settings"]).await;
/// let ttl = cached_query_runtime::ttl_of(&"site-name").await;
/// assert_eq!(ttl, Some(cached_query_runtime::FOREVER));
/// # }
/// ```
pub async fn put_forever<K, V>(key: &K, value: V, tags: &[&str])
where
    K: KeyArg + ?Sized,
    V: CacheValue,
{
    put(key, value, FOREVER, tags).await;
}

/// The fresh value cached under `key`, removed: of concurrent `pull`s of one entry, one gets
/// it. Counted as a hit or a miss. With a shared tier the value is also removed there, and
/// every instance drops its in-memory copy before `pull` returns (it reads this instance's
/// memory, as [`get`] does).
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// cached_query_runtime::put(&"one-time-token", 1234u32, Duration::from_secs(60), &[]).await;
/// assert_eq!(cached_query_runtime::pull(&"one-time-token").await, Some(1234u32));
/// assert_eq!(cached_query_runtime::pull::<_, u32>(&"one-time-token").await, None);
/// # }
/// ```
pub async fn pull<K, V>(key: &K) -> Option<V>
where
    K: KeyArg + ?Sized,
    V: CacheValue,
{
    let key = key_of(key);
    let runtime = runtime();
    let counters = runtime.counters(key.function);
    let pulled = key.hash.and_then(|hash| {
        let entry = fresh_entry(runtime, hash)?;
        let value = codec::<ValuePolicy, V>().load(&entry)?;
        runtime
            .store
            .remove_if_same(hash, &entry)
            .then_some((hash, value))
    });
    let Some((hash, value)) = pulled else {
        bump(&counters.misses);
        return None;
    };
    counters.hits.add_one();
    if let Some(tier) = runtime.tier.as_deref() {
        // Failures are the tier's to count: the value was pulled from this instance.
        let _ = tier.delete(hash).await;
        let drop_key = key_drop_tag(hash);
        let _ = tier.invalidate(&[drop_key.as_str()]).await;
    }
    Some(value)
}

/// The fresh entry under `hash` in this instance's memory, if any.
fn fresh_entry(runtime: &Runtime, hash: u128) -> Option<Arc<Entry>> {
    runtime
        .store
        .get(hash)
        .filter(|entry| entry.is_fresh(runtime.now_nanos()))
}

/// How long the fresh entry under `key` has left in this instance's memory ([`FOREVER`] for
/// one that never expires); `None` without one.
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// cached_query_runtime::put(&"session", 1u8, Duration::from_secs(60), &[]).await;
/// let left = cached_query_runtime::ttl_of(&"session").await;
/// assert!(left.is_some_and(|left| left <= Duration::from_secs(60)));
/// # }
/// ```
pub async fn ttl_of<K: KeyArg + ?Sized>(key: &K) -> Option<Duration> {
    let runtime = runtime();
    let entry = fresh_entry(runtime, key_of(key).hash?)?;
    Some(match entry.meta.expires_at_nanos {
        u64::MAX => FOREVER,
        deadline => Duration::from_nanos(deadline.saturating_sub(runtime.now_nanos())),
    })
}

/// How long ago the fresh entry under `key` was stored in this instance's memory; `None`
/// without one.
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// cached_query_runtime::put(&"report", 1u8, Duration::from_secs(60), &[]).await;
/// let age = cached_query_runtime::age_of(&"report").await;
/// assert!(age.is_some_and(|age| age < Duration::from_secs(60)));
/// # }
/// ```
pub async fn age_of<K: KeyArg + ?Sized>(key: &K) -> Option<Duration> {
    let runtime = runtime();
    let entry = fresh_entry(runtime, key_of(key).hash?)?;
    Some(Duration::from_nanos(
        runtime.now_nanos().saturating_sub(entry.stored_at_nanos()?),
    ))
}

/// Removes the entry under `key` (from every store); `true` if one was removed.
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// cached_query_runtime::put(&7u32, 49u64, Duration::from_secs(60), &[]).await;
/// assert!(cached_query_runtime::forget_key(&7u32).await);
/// assert!(!cached_query_runtime::has(&7u32).await);
/// # }
/// ```
pub async fn forget_key<K: KeyArg + ?Sized>(key: &K) -> bool {
    match key_of(key).hash {
        Some(hash) => crate::engine::remove(crate::runtime::runtime(), hash, true).await,
        None => false,
    }
}

/// Whether a fresh entry of any type is cached under `key` (not counted as a hit or a miss).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert!(!cached_query_runtime::has(&"nothing-here").await);
/// # }
/// ```
pub async fn has<K: KeyArg + ?Sized>(key: &K) -> bool {
    let Some(hash) = key_of(key).hash else {
        return false;
    };
    fresh_entry(runtime(), hash).is_some()
}

/// [`get`] for several keys, in order.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let values: Vec<Option<u8>> = cached_query_runtime::get_many(&[1u32, 2, 3]).await;
/// assert_eq!(values.len(), 3);
/// # }
/// ```
pub async fn get_many<'k, K, V, I>(keys: I) -> Vec<Option<V>>
where
    K: KeyArg + ?Sized + 'k,
    V: CacheValue,
    I: IntoIterator<Item = &'k K>,
{
    let mut values = Vec::new();
    for key in keys {
        values.push(get(key).await);
    }
    values
}

/// [`put`] for several entries, all with the same TTL and tags.
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// cached_query_runtime::put_many([(1u32, "one"), (2, "two")].map(|(k, v)| (k, v.to_string())),
///     Duration::from_secs(60), &["numbers"]).await;
/// # }
/// ```
pub async fn put_many<K, V, I>(entries: I, ttl: Duration, tags: &[&str])
where
    K: KeyArg,
    V: CacheValue,
    I: IntoIterator<Item = (K, V)>,
{
    for (key, value) in entries {
        put(&key, value, ttl, tags).await;
    }
}

/// [`forget_key`] for several keys; how many entries were removed.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let removed = cached_query_runtime::forget_many(&["a", "b"]).await;
/// assert_eq!(removed, 0);
/// # }
/// ```
pub async fn forget_many<'k, K, I>(keys: I) -> usize
where
    K: KeyArg + ?Sized + 'k,
    I: IntoIterator<Item = &'k K>,
{
    let mut removed = 0;
    for key in keys {
        removed += usize::from(forget_key(key).await);
    }
    removed
}
