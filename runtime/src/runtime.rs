//! The process-wide cache runtime and its start-up configuration.

use crate::clock::ManualClock;
use crate::fast_map::FastMap;
use crate::flight::Flights;
use crate::function::FunctionState;
use crate::stats::{Counters, Counts, FunctionStats, Stats};
use crate::store::{self, Engine, Implicit, Origin, OriginSpec, Origins, Store};
use crate::tags::{TagCell, TagRegistry};
use crate::tier::{Tier, TierStart};
use crate::windows::Windows;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Duration;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// Every function called so far, in any instance: their counters are process-wide.
static FUNCTIONS: Mutex<Vec<&'static FunctionState>> = Mutex::new(Vec::new());

thread_local! {
    /// The instance a [`Cache::scope`](crate::Cache::scope) installed around the current poll, if any.
    static CURRENT: Cell<Option<&'static Runtime>> = const { Cell::new(None) };
}

pub(crate) struct Runtime {
    pub(crate) store: Arc<Store>,
    pub(crate) tags: Arc<TagRegistry>,
    pub(crate) flights: Arc<Flights>,
    /// The open windows of batch functions that merge concurrent calls (`merge = ..`).
    pub(crate) merges: Windows,
    /// Carried by every entry: [`invalidate_all`](crate::invalidate_all) bumps it.
    pub(crate) epoch: Arc<TagCell>,
    /// Carried by the entries of shared functions only: the tier bumps it when it may have
    /// missed invalidations (see [`SHARED_EPOCH_TAG`](crate::tags::SHARED_EPOCH_TAG)).
    pub(crate) shared_epoch: Arc<TagCell>,
    pub(crate) manual_clock: Option<ManualClock>,
    /// The shared tier, when one is configured.
    pub(crate) tier: Option<Arc<dyn Tier>>,
    /// Named stores kept in memory only.
    pub(crate) memory_only_stores: Vec<String>,
    pub(crate) default_ttl: Duration,
    pub(crate) ttl_jitter: f64,
    /// The state of the random draws `early_refresh` makes (see [`Runtime::random_unit`]).
    draws: AtomicU64,
    /// `None` for the process-wide runtime, whose counters live in each [`FunctionState`];
    /// another instance counts its calls here, so that its `stats()` are its own.
    instance_counters: Option<RwLock<FastMap<usize, InstanceCounters>>>,
    /// What the entries of each function share (see [`Origin`]).
    origins: Origins,
}

/// One function's counters in an instance other than the process-wide one.
type InstanceCounters = (&'static FunctionState, &'static Counters);

/// The instance calls are routed to: the one a [`Cache::scope`](crate::Cache::scope) installed, or the process-wide
/// runtime, built from the defaults on first use unless [`Config::install`] came first.
#[inline]
pub(crate) fn runtime() -> &'static Runtime {
    CURRENT.with(Cell::get).unwrap_or_else(process_wide)
}

/// The process-wide runtime, built from the defaults unless [`Config::install`] came first.
#[inline]
pub(crate) fn process_wide() -> &'static Runtime {
    match RUNTIME.get() {
        Some(runtime) => runtime,
        None => process_wide_built(),
    }
}

/// [`process_wide`] on its first use.
#[cold]
#[inline(never)]
fn process_wide_built() -> &'static Runtime {
    RUNTIME.get_or_init(|| Config::new().build(Instance::ProcessWide))
}

/// Which runtime a [`Config`] builds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Instance {
    /// The one calls outside any [`Cache::scope`](crate::Cache::scope) use.
    ProcessWide,
    /// A [`Cache`](crate::Cache) of its own.
    Own,
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
    pub(crate) fn is_shared(&self, store: Option<&str>) -> bool {
        store.is_none_or(|name| !self.memory_only_stores.iter().any(|m| m == name))
    }

    /// Now, in nanoseconds, on the clock TTLs are measured with: the manual clock when one is
    /// installed, else the coarse monotonic clock.
    #[inline]
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
        // A TTL near `Duration::MAX` ("forever") may not survive the trip through `f64`: kept.
        Duration::try_from_secs_f64(ttl.as_secs_f64() * (1.0 - self.ttl_jitter * unit))
            .unwrap_or(ttl)
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

    /// The counters `function` counts this instance's calls with.
    #[inline]
    pub(crate) fn counters(&self, function: &'static FunctionState) -> &'static Counters {
        match &self.instance_counters {
            None => &function.counters,
            Some(table) => instance_counters(table, function),
        }
    }

    /// The origin `spec` describes, its implicit tags this instance's cells.
    pub(crate) fn origin(&self, spec: OriginSpec) -> &'static Origin {
        self.origins.get(spec, |implicit| match implicit {
            Implicit::Nothing => Vec::new(),
            Implicit::Memory(function_tag) => {
                vec![self.tags.intern(function_tag), Arc::clone(&self.epoch)]
            }
            Implicit::Shared(function_tag) => vec![
                self.tags.intern(function_tag),
                Arc::clone(&self.epoch),
                Arc::clone(&self.shared_epoch),
            ],
        })
    }

    pub(crate) fn stats(&self) -> Stats {
        let functions: Vec<InstanceCounters> = match &self.instance_counters {
            None => FUNCTIONS
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .map(|f| (*f, &f.counters))
                .collect(),
            Some(table) => {
                let mut rows: Vec<InstanceCounters> = table
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .values()
                    .copied()
                    .collect();
                rows.sort_by(|a, b| a.0.name.cmp(&b.0.name));
                rows
            }
        };
        let mut total = Counts::default();
        let functions = functions
            .iter()
            .map(|(f, counters)| {
                let counts = counters.snapshot();
                total.add(&counts);
                FunctionStats {
                    name: f.name.to_string(),
                    counts,
                    compute: counters.compute.snapshot(),
                }
            })
            .collect();
        Stats {
            total,
            functions,
            tag_cells: self.tags.len() as u64,
            shared: self.tier.as_ref().map(|tier| tier.stats()),
        }
    }
}

/// `function`'s counters in an instance's `table`, created on its first call there (leaked: an
/// instance lives until the process ends).
fn instance_counters(
    table: &RwLock<FastMap<usize, InstanceCounters>>,
    function: &'static FunctionState,
) -> &'static Counters {
    let id = std::ptr::from_ref(function) as usize;
    if let Some((_, counters)) = table
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&id)
    {
        return counters;
    }
    table
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(id)
        .or_insert_with(|| (function, Box::leak(Box::default())))
        .1
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
/// | [`engine`](Self::engine) | quick_cache, or the engine [`Engine::ENV`] names |
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
    engine: Engine,
    /// The shared tier behind the in-memory store (`Config::redis` with feature `redis`; a fake
    /// in the engine's tests).
    pub(crate) tier: Option<TierStart>,
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
            engine: Engine::from_env(),
            tier: None,
        }
    }
}

impl Config {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Upper bound of the memory charged to cached entries: each entry costs what it holds (its
    /// value, its tag stamps, its own fields) plus the engine's bookkeeping (about 64 bytes on
    /// quick_cache, 320 on moka). The engine's policy picks what to evict: quick_cache's
    /// S3-FIFO-like queues, or moka's TinyLFU.
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

    /// The in-memory engine: quick_cache by default, moka with feature `moka`. A library's
    /// features never switch it: only the application chooses, here (or its environment,
    /// through [`Engine::ENV`], when it does not choose here).
    ///
    /// ```
    /// use cached_query_runtime::{Config, Engine};
    ///
    /// let config = Config::new().engine(Engine::QuickCache);
    /// # let _ = config;
    /// ```
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
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
            self.build(Instance::ProcessWide)
        });
        if installed {
            Ok(())
        } else {
            Err(AlreadyInstalled)
        }
    }

    pub(crate) fn build(self, instance: Instance) -> Runtime {
        let store = Arc::new(Store::new(self.engine, self.max_capacity_bytes));
        let manual_clock = self.manual_clock.clone();
        store::spawn_maintenance(
            Arc::downgrade(&store),
            self.maintenance_interval,
            move || crate::clock::now_nanos(manual_clock.as_ref()),
        );
        let tags = Arc::new(TagRegistry::default());
        let flights = Arc::new(Flights::default());
        // `#[cache_put]` (or `pull`) in another instance: its key-level drop removes our copy,
        // and a computation of the key running here is not stored (it read the old data).
        let dropped_from = Arc::downgrade(&store);
        let computing = Arc::clone(&flights);
        tags.on_key_drop(Box::new(move |hash| {
            computing.doom(hash);
            if let Some(store) = dropped_from.upgrade() {
                store.remove(hash);
            }
        }));
        Runtime {
            store,
            epoch: tags.intern(crate::tags::EPOCH_TAG),
            shared_epoch: tags.intern(crate::tags::SHARED_EPOCH_TAG),
            tier: self
                .tier
                .and_then(|tier| tier.start(&self.namespace, &tags)),
            instance_counters: match instance {
                Instance::ProcessWide => None,
                Instance::Own => Some(RwLock::default()),
            },
            tags,
            flights,
            origins: Origins::default(),
            merges: Windows::default(),
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
