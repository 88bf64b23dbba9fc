//! The process-wide cache runtime and its start-up configuration.

use crate::clock::ManualClock;
use crate::flight::Flights;
use crate::function::FunctionState;
use crate::stats::{Counts, FunctionStats, Stats};
use crate::store::{self, Store};
use crate::tags::{TagCell, TagRegistry};
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// Every function called so far, in any instance: their counters are process-wide.
static FUNCTIONS: Mutex<Vec<&'static FunctionState>> = Mutex::new(Vec::new());

thread_local! {
    /// The instance a [`Cache::scope`] installed around the current poll, if any.
    static CURRENT: Cell<Option<&'static Runtime>> = const { Cell::new(None) };
}

pub(crate) struct Runtime {
    pub(crate) store: Arc<Store>,
    pub(crate) tags: Arc<TagRegistry>,
    pub(crate) flights: Flights,
    /// Carried by every entry: [`invalidate_all`](crate::invalidate_all) bumps it.
    pub(crate) epoch: Arc<TagCell>,
    pub(crate) manual_clock: Option<ManualClock>,
    #[cfg(feature = "redis")]
    pub(crate) shared: Option<Arc<crate::shared::SharedTier>>,
    /// Named stores kept in memory only.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) memory_only_stores: Vec<String>,
    pub(crate) default_ttl: Duration,
    pub(crate) ttl_jitter: f64,
    /// The state of the random draws `early_refresh` makes (see [`Runtime::random_unit`]).
    draws: AtomicU64,
}

/// The instance calls are routed to: the one a [`Cache::scope`] installed, or the process-wide
/// runtime, built from the defaults on first use unless [`Config::install`] came first.
pub(crate) fn runtime() -> &'static Runtime {
    CURRENT
        .with(Cell::get)
        .unwrap_or_else(|| RUNTIME.get_or_init(|| Config::new().build()))
}

pub(crate) fn register(function: &'static FunctionState) {
    FUNCTIONS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(function);
}

impl Runtime {
    /// Whether functions of `store` go to the shared tier (when there is one): every store does
    /// unless the application configured it as memory-only.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn is_shared(&self, store: Option<&str>) -> bool {
        store.is_none_or(|name| !self.memory_only_stores.iter().any(|m| m == name))
    }

    /// Now, in nanoseconds, on the clock TTLs are measured with: the manual clock when one is
    /// installed, else the coarse monotonic clock.
    pub(crate) fn now_nanos(&self) -> u64 {
        crate::clock::now_nanos(self.manual_clock.as_ref())
    }

    /// The TTL an entry of `key` gets: `ttl` shortened by up to `ttl_jitter` of itself, so that
    /// entries written together do not all expire together. Derived from the key (already a
    /// uniform hash), so it needs no random source and never exceeds the configured TTL.
    pub(crate) fn jittered(&self, ttl: Duration, key: u128) -> Duration {
        if self.ttl_jitter <= 0.0 {
            return ttl;
        }
        let unit = (key as u64 >> 11) as f64 / (1u64 << 53) as f64;
        ttl.mul_f64(1.0 - self.ttl_jitter * unit)
    }

    /// A uniform draw in (0, 1]: splitmix64 over a counter, which is all a probabilistic
    /// refresh decision needs (no dependency on a random-number crate).
    pub(crate) fn random_unit(&self) -> f64 {
        let mut z = self
            .draws
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn stats(&self) -> Stats {
        let functions = FUNCTIONS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut total = Counts::default();
        let functions = functions
            .iter()
            .map(|f| {
                let counts = f.counters.snapshot();
                total.add(&counts);
                FunctionStats {
                    name: f.name.to_string(),
                    counts,
                }
            })
            .collect();
        Stats {
            total,
            functions,
            tag_cells: self.tags.len() as u64,
            #[cfg(feature = "redis")]
            shared: self.shared.as_ref().map(|tier| tier.stats()),
        }
    }
}

/// Start-up configuration of the cache. Nothing is required: without it the first cached call
/// builds the runtime from the defaults below.
///
/// | setting | default |
/// |---|---|
/// | [`max_capacity_bytes`](Self::max_capacity_bytes) | 64 MiB |
/// | [`default_ttl`](Self::default_ttl) (functions without `ttl = ..`) | 60 s |
/// | [`ttl_jitter`](Self::ttl_jitter) | 0.05 (TTLs shortened by up to 5 %) |
/// | [`namespace`](Self::namespace) | empty |
/// | [`clock`](Self::clock) | the system clock |
///
/// ```
/// use std::time::Duration;
/// use cached_query_runtime::Config;
///
/// Config::new()
///     .max_capacity_bytes(256 * 1024 * 1024)
///     .default_ttl(Duration::from_secs(300))
///     .namespace("billing-v2")
///     .install()
///     .expect("installed before the first cached call");
/// ```
#[derive(Clone, Debug)]
#[must_use = "a `Config` does nothing until `install()` is called"]
pub struct Config {
    max_capacity_bytes: u64,
    default_ttl: Duration,
    ttl_jitter: f64,
    namespace: String,
    manual_clock: Option<ManualClock>,
    maintenance_interval: Duration,
    memory_only_stores: Vec<String>,
    #[cfg(feature = "redis")]
    redis: Option<crate::shared::RedisConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_capacity_bytes: 64 * 1024 * 1024,
            default_ttl: Duration::from_secs(60),
            ttl_jitter: 0.05,
            namespace: String::new(),
            manual_clock: None,
            maintenance_interval: Duration::from_millis(250),
            memory_only_stores: Vec::new(),
            #[cfg(feature = "redis")]
            redis: None,
        }
    }
}

impl Config {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Upper bound of the memory charged to cached entries: each entry costs its encoded size
    /// plus about 320 bytes of bookkeeping. Least valuable entries (TinyLFU) are evicted first.
    pub fn max_capacity_bytes(mut self, bytes: u64) -> Self {
        self.max_capacity_bytes = bytes;
        self
    }

    /// TTL of functions that do not set `ttl = ..`.
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = ttl;
        self
    }

    /// Shortens each entry's TTL by up to this fraction (clamped to `0.0..=0.5`), so that entries
    /// written in one burst do not expire in one burst. `0.0` turns jitter off.
    pub fn ttl_jitter(mut self, fraction: f64) -> Self {
        self.ttl_jitter = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 0.5)
        };
        self
    }

    /// The prefix of every key in the shared store: applications (or deployments with
    /// incompatible values) with different namespaces never share an entry or an invalidation.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Measures TTLs on `clock` instead of the system clock: for tests of expiry that must not
    /// sleep. See [`ManualClock`].
    pub fn clock(mut self, clock: ManualClock) -> Self {
        self.manual_clock = Some(clock);
        self
    }

    /// Shares cached values and invalidations with every instance using the same Redis (and the
    /// same [`namespace`](Self::namespace)). Start-up never waits for Redis nor fails without it:
    /// the cache works from memory until Redis answers. Functions marked `local` stay in memory.
    #[cfg(feature = "redis")]
    pub fn redis(mut self, redis: crate::shared::RedisConfig) -> Self {
        self.redis = Some(redis);
        self
    }

    /// Keeps the functions marked `store = "name"` in memory only, even when a shared store is
    /// configured: the application decides where a library's cached functions live. Functions
    /// of stores not named here (and functions without `store`) use the shared store when there
    /// is one.
    ///
    /// ```
    /// // A library caches `#[cached_query(store = "geo")] async fn lookup(..)`; this
    /// // application keeps those entries in each process:
    /// let config = cached_query_runtime::Config::new().memory_only_store("geo");
    /// # let _ = config;
    /// ```
    pub fn memory_only_store(mut self, name: impl Into<String>) -> Self {
        self.memory_only_stores.push(name.into());
        self
    }

    /// Installs this configuration. It must come before the first cached call, which otherwise
    /// installs the defaults; afterwards it returns [`AlreadyInstalled`] and changes nothing.
    pub fn install(self) -> Result<(), AlreadyInstalled> {
        let mut installed = false;
        RUNTIME.get_or_init(|| {
            installed = true;
            self.build()
        });
        if installed {
            Ok(())
        } else {
            Err(AlreadyInstalled)
        }
    }

    fn build(self) -> Runtime {
        let store = Arc::new(store::build(self.max_capacity_bytes));
        let manual_clock = self.manual_clock.clone();
        store::spawn_maintenance(
            Arc::downgrade(&store),
            self.maintenance_interval,
            move || crate::clock::now_nanos(manual_clock.as_ref()),
        );
        let tags = Arc::new(TagRegistry::default());
        Runtime {
            store,
            epoch: tags.intern(crate::tags::EPOCH_TAG),
            #[cfg(feature = "redis")]
            shared: self.redis.and_then(|redis| {
                crate::shared::SharedTier::start(redis, &self.namespace, Arc::clone(&tags))
            }),
            tags,
            flights: Flights::default(),
            memory_only_stores: self.memory_only_stores,
            default_ttl: self.default_ttl,
            ttl_jitter: self.ttl_jitter,
            // Under a manual clock the draws are a fixed sequence, so tests are reproducible.
            draws: AtomicU64::new(if self.manual_clock.is_some() {
                0
            } else {
                std::hash::BuildHasher::hash_one(
                    &std::collections::hash_map::RandomState::new(),
                    0u8,
                )
            }),
            manual_clock: self.manual_clock,
        }
    }
}

/// [`Config::install`] came after the runtime was already running (a cached call or an earlier
/// `install`); the configuration in force is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlreadyInstalled;

impl fmt::Display for AlreadyInstalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the cached-query runtime was already configured: call `Config::install` before the first cached call",
        )
    }
}

impl std::error::Error for AlreadyInstalled {}

/// A cache instance of its own, beside the process-wide one: its own store, tags and
/// configuration. Cached calls made inside [`Cache::scope`] use it.
///
/// For tests that must not share entries, and for running two instances in one process (as two
/// machines would, through a shared store). An instance lives until the process ends: create a
/// few, not one per request.
///
/// ```
/// use cached_query_runtime::{Cache, Config};
///
/// # async fn demo() {
/// let isolated = Cache::new(Config::new());
/// let result = isolated.scope(async {
///     // cached calls here read and write `isolated` only
///     42
/// }).await;
/// # let _ = result;
/// # }
/// ```
#[derive(Clone, Copy)]
pub struct Cache {
    runtime: &'static Runtime,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache").finish_non_exhaustive()
    }
}

impl Cache {
    /// A new instance with this configuration.
    pub fn new(config: Config) -> Cache {
        Cache {
            runtime: Box::leak(Box::new(config.build())),
        }
    }

    /// Runs `future` with this instance as the one every cached call, invalidation and
    /// [`stats`](crate::stats) inside it uses.
    pub async fn scope<F: Future>(&self, future: F) -> F::Output {
        within(self.runtime, future).await
    }
}

/// Runs `future` with `runtime` as the instance every cached call inside it uses (also how a
/// background refresh keeps the instance of the call that started it).
pub(crate) async fn within<F: Future>(runtime: &'static Runtime, future: F) -> F::Output {
    struct Restore(Option<&'static Runtime>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(move |cx| {
        let _restore = Restore(CURRENT.with(|c| c.replace(Some(runtime))));
        future.as_mut().poll(cx)
    })
    .await
}
