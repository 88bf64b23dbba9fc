//! [`Cache`]: one cache instance as a value, with the whole public API as its methods. The free
//! functions of the crate are the same operations on the current instance.

use crate::bounds::{CacheValue, KeyArg};
use crate::invalidate::{InvalidateError, invalidate_in};
use crate::runtime::{Config, Instance, Runtime, process_wide, runtime, within};
use crate::stats::Stats;
use std::fmt;
use std::future::Future;
use std::time::Duration;

/// A cache instance: the process-wide one ([`Cache::global`]) or one of its own
/// ([`Cache::new`]), with its own store, tags, configuration and statistics. Cached calls made
/// inside [`Cache::scope`] use it.
///
/// Instances of their own are for tests that must not share entries, and for running two
/// instances in one process (as two machines would, through a shared store). An instance lives
/// until the process ends: create a few, not one per request.
///
/// ```
/// use cached_query_runtime::{Cache, Config};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let isolated = Cache::new(Config::new());
/// let result = isolated.scope(async {
///     // cached calls here read and write `isolated` only
///     42
/// }).await;
/// isolated.invalidate_tag("users").await.expect("no shared store to fail");
/// assert_eq!(isolated.stats().total.hits, 0);
/// # let _ = result;
/// # }
/// ```
#[derive(Clone, Copy)]
pub struct Cache {
    runtime: &'static Runtime,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache").finish_non_exhaustive()
    }
}

impl Cache {
    /// A new instance with this configuration.
    pub fn new(config: Config) -> Cache {
        Cache {
            runtime: Box::leak(Box::new(config.build(Instance::Own))),
        }
    }

    /// The process-wide instance: the one cached calls use outside any [`Cache::scope`]. Built
    /// from the defaults on first use unless [`Config::install`] came first.
    ///
    /// ```
    /// let hits = cached_query_runtime::Cache::global().stats().total.hits;
    /// # let _ = hits;
    /// ```
    pub fn global() -> Cache {
        Cache {
            runtime: process_wide(),
        }
    }

    /// The instance calls made here use: the one a [`Cache::scope`] installed, else the
    /// process-wide one.
    ///
    /// ```
    /// let current = cached_query_runtime::Cache::current();
    /// # let _ = current;
    /// ```
    pub fn current() -> Cache {
        Cache { runtime: runtime() }
    }

    /// Runs `future` with this instance as the one every cached call, invalidation and
    /// [`stats`](crate::stats) inside it uses.
    pub async fn scope<F: Future>(&self, future: F) -> F::Output {
        within(self.runtime, future).await
    }

    /// A snapshot of this instance's counters: the calls it answered, per function.
    ///
    /// ```
    /// let stats = cached_query_runtime::Cache::current().stats();
    /// println!("hit ratio: {:.2}", stats.total.hit_ratio());
    /// ```
    pub fn stats(&self) -> Stats {
        self.runtime.stats()
    }

    /// Invalidates every entry of this instance tagged `tag` (see
    /// [`invalidate_tag`](crate::invalidate_tag)).
    ///
    /// ```
    /// # async fn demo(cache: cached_query_runtime::Cache) -> Result<(), cached_query_runtime::InvalidateError> {
    /// cache.invalidate_tag("user:42").await?;
    /// # Ok(()) }
    /// ```
    pub async fn invalidate_tag(&self, tag: &str) -> Result<(), InvalidateError> {
        invalidate_in(self.runtime, &[tag]).await
    }

    /// Invalidates every entry of this instance carrying any of `tags`.
    ///
    /// ```
    /// # async fn demo(cache: cached_query_runtime::Cache) -> Result<(), cached_query_runtime::InvalidateError> {
    /// cache.invalidate_tags(["users", "user:42"]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn invalidate_tags<I>(&self, tags: I) -> Result<(), InvalidateError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let owned: Vec<I::Item> = tags.into_iter().collect();
        let names: Vec<&str> = owned.iter().map(AsRef::as_ref).collect();
        invalidate_in(self.runtime, &names).await
    }

    /// Invalidates every cached entry of every function in this instance.
    ///
    /// ```
    /// # async fn demo(cache: cached_query_runtime::Cache) -> Result<(), cached_query_runtime::InvalidateError> {
    /// cache.invalidate_all().await?;
    /// # Ok(()) }
    /// ```
    pub async fn invalidate_all(&self) -> Result<(), InvalidateError> {
        invalidate_in(self.runtime, &[crate::tags::EPOCH_TAG]).await
    }

    /// [`remember`](crate::remember) in this instance.
    ///
    /// ```
    /// # async fn demo(cache: cached_query_runtime::Cache) {
    /// let n: u32 = cache
    ///     .remember(&"answer", std::time::Duration::from_secs(60), &[], || async { 42 })
    ///     .await;
    /// # let _ = n;
    /// # }
    /// ```
    pub async fn remember<K, V, F, Fut>(
        &self,
        key: &K,
        ttl: Duration,
        tags: &[&str],
        compute: F,
    ) -> V
    where
        K: KeyArg + ?Sized,
        V: CacheValue,
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        self.scope(crate::manual::remember(key, ttl, tags, compute))
            .await
    }

    /// [`get`](crate::get) in this instance.
    ///
    /// ```
    /// # async fn demo(cache: cached_query_runtime::Cache) {
    /// let cached: Option<u32> = cache.get(&"answer").await;
    /// # let _ = cached;
    /// # }
    /// ```
    pub async fn get<K: KeyArg + ?Sized, V: CacheValue>(&self, key: &K) -> Option<V> {
        self.scope(crate::manual::get(key)).await
    }

    /// [`put`](crate::put) in this instance.
    ///
    /// ```
    /// # async fn demo(cache: cached_query_runtime::Cache) {
    /// cache.put(&"answer", 42u32, std::time::Duration::from_secs(60), &["answers"]).await;
    /// # }
    /// ```
    pub async fn put<K: KeyArg + ?Sized, V: CacheValue>(
        &self,
        key: &K,
        value: V,
        ttl: Duration,
        tags: &[&str],
    ) {
        self.scope(crate::manual::put(key, value, ttl, tags)).await;
    }

    /// [`put_forever`](crate::put_forever) in this instance.
    ///
    /// ```
    /// # async fn demo(cache: cached_query_runtime::Cache) {
    /// cache.put_forever(&"site-name", "Example".to_string(), &["settings"]).await;
    /// # }
    /// ```
    pub async fn put_forever<K: KeyArg + ?Sized, V: CacheValue>(
        &self,
        key: &K,
        value: V,
        tags: &[&str],
    ) {
        self.scope(crate::manual::put_forever(key, value, tags))
            .await;
    }

    /// [`pull`](crate::pull) in this instance.
    ///
    /// ```
    /// # async fn demo(cache: cached_query_runtime::Cache) {
    /// let token: Option<u32> = cache.pull(&"one-time-token").await;
    /// # let _ = token;
    /// # }
    /// ```
    pub async fn pull<K: KeyArg + ?Sized, V: CacheValue>(&self, key: &K) -> Option<V> {
        self.scope(crate::manual::pull(key)).await
    }

    /// [`increment`](crate::increment) in this instance.
    ///
    /// ```
    /// # async fn demo(cache: cached_query_runtime::Cache) {
    /// let views = cache.increment(&("views", 7u64), 1, std::time::Duration::from_secs(86_400)).await;
    /// # let _ = views;
    /// # }
    /// ```
    pub async fn increment<K: KeyArg + ?Sized>(&self, key: &K, by: i64, ttl: Duration) -> i64 {
        self.scope(crate::counter::increment(key, by, ttl)).await
    }

    /// [`decrement`](crate::decrement) in this instance.
    ///
    /// ```
    /// # async fn demo(cache: cached_query_runtime::Cache) {
    /// let left = cache.decrement(&"seats-left", 1, std::time::Duration::from_secs(3600)).await;
    /// # let _ = left;
    /// # }
    /// ```
    pub async fn decrement<K: KeyArg + ?Sized>(&self, key: &K, by: i64, ttl: Duration) -> i64 {
        self.scope(crate::counter::decrement(key, by, ttl)).await
    }

    /// [`ttl_of`](crate::ttl_of) in this instance.
    ///
    /// ```
    /// # async fn demo(cache: cached_query_runtime::Cache) {
    /// let left = cache.ttl_of(&"session").await;
    /// # let _ = left;
    /// # }
    /// ```
    pub async fn ttl_of<K: KeyArg + ?Sized>(&self, key: &K) -> Option<Duration> {
        self.scope(crate::manual::ttl_of(key)).await
    }

    /// [`age_of`](crate::age_of) in this instance.
    ///
    /// ```
    /// # async fn demo(cache: cached_query_runtime::Cache) {
    /// let age = cache.age_of(&"report").await;
    /// # let _ = age;
    /// # }
    /// ```
    pub async fn age_of<K: KeyArg + ?Sized>(&self, key: &K) -> Option<Duration> {
        self.scope(crate::manual::age_of(key)).await
    }

    /// [`forget_key`](crate::forget_key) in this instance.
    ///
    /// ```
    /// # async fn demo(cache: cached_query_runtime::Cache) {
    /// let removed = cache.forget_key(&"answer").await;
    /// # let _ = removed;
    /// # }
    /// ```
    pub async fn forget_key<K: KeyArg + ?Sized>(&self, key: &K) -> bool {
        self.scope(crate::manual::forget_key(key)).await
    }

    /// [`has`](crate::has) in this instance.
    ///
    /// ```
    /// # async fn demo(cache: cached_query_runtime::Cache) {
    /// let cached = cache.has(&"answer").await;
    /// # let _ = cached;
    /// # }
    /// ```
    pub async fn has<K: KeyArg + ?Sized>(&self, key: &K) -> bool {
        self.scope(crate::manual::has(key)).await
    }

    /// [`run_pending_tasks`](crate::run_pending_tasks) for this instance's store.
    ///
    /// ```
    /// # async fn demo(cache: cached_query_runtime::Cache) {
    /// cache.run_pending_tasks().await;
    /// # }
    /// ```
    pub async fn run_pending_tasks(&self) {
        let runtime = self.runtime;
        runtime.store.sweep_expired(runtime.now_nanos());
        runtime.store.run_pending_tasks();
    }
}
