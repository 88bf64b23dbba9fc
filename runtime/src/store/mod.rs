//! The in-memory store (L1): a concurrent map of entries bounded in bytes, behind one small
//! seam ([`Store`]) with two engines: quick_cache (the default: S3-FIFO-like, ~30 ns reads, no
//! background work) and moka (feature `moka`: TinyLFU, the engine the project started on),
//! chosen by the application in [`Config::engine`](crate::Config::engine). Entries carry their
//! own deadlines on the coarse clock and their own tag stamps, so an engine only has to hold,
//! bound, evict and report evictions; expired entries are cold and evicted first, and a sweep
//! removes those nobody asks for again.

mod entry;
#[cfg(feature = "moka")]
mod moka;
mod quick;

pub(crate) use entry::{Entry, NewEntry};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The in-memory engine of a cache instance ([`Config::engine`](crate::Config::engine)).
///
/// ```
/// use cached_query_runtime::{Config, Engine};
///
/// let config = Config::new().engine(Engine::QuickCache);
/// # let _ = config;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// quick_cache: the default.
    #[default]
    QuickCache,
    /// moka's `sync::Cache` (feature `moka`).
    #[cfg(feature = "moka")]
    Moka,
}

impl Engine {
    /// The environment variable that names the engine a [`Config`](crate::Config) starts
    /// from: `quick_cache` or `moka` (the latter only with feature `moka`; any other value is
    /// ignored). [`Config::engine`](crate::Config::engine) overrides it.
    pub const ENV: &'static str = "CACHED_QUERY_ENGINE";

    /// The engine [`ENV`](Self::ENV) names, else the default: lets a deployment, or a test
    /// matrix, switch engines without a rebuild and without changing the application's code.
    ///
    /// ```
    /// use cached_query_runtime::Engine;
    ///
    /// // Unset (or unknown), it is the default engine.
    /// if std::env::var_os(Engine::ENV).is_none() {
    ///     assert_eq!(Engine::from_env(), Engine::QuickCache);
    /// }
    /// ```
    pub fn from_env() -> Engine {
        match std::env::var(Self::ENV).as_deref() {
            #[cfg(feature = "moka")]
            Ok("moka") => Engine::Moka,
            _ => Engine::default(),
        }
    }
}

/// One instance's entries, in the engine the application chose.
pub(crate) enum Store {
    Quick(quick::QuickStore),
    #[cfg(feature = "moka")]
    Moka(moka::MokaStore),
}

/// Dispatches to the engine: `engine!(self, store => expr)`.
macro_rules! engine {
    ($self:expr, $store:ident => $call:expr) => {
        match $self {
            Store::Quick($store) => $call,
            #[cfg(feature = "moka")]
            Store::Moka($store) => $call,
        }
    };
}

impl Store {
    pub(crate) fn new(engine: Engine, max_capacity_bytes: u64) -> Store {
        match engine {
            Engine::QuickCache => Store::Quick(quick::QuickStore::new(max_capacity_bytes)),
            #[cfg(feature = "moka")]
            Engine::Moka => Store::Moka(moka::MokaStore::new(max_capacity_bytes)),
        }
    }

    /// The entry under `key`, if any (fresh or not: the engine knows nothing of freshness).
    #[inline]
    pub(crate) fn get(&self, key: u128) -> Option<Arc<Entry>> {
        engine!(self, store => store.get(key))
    }

    /// Builds the entry (counting it in) and stores it under `key`, replacing any other.
    pub(crate) fn insert(&self, key: u128, parts: NewEntry) -> Arc<Entry> {
        engine!(self, store => {
            let entry = Entry::new(parts, store.overhead());
            store.insert(key, Arc::clone(&entry));
            entry
        })
    }

    /// Removes the entry under `key`; whether there was one.
    pub(crate) fn remove(&self, key: u128) -> bool {
        engine!(self, store => store.remove(key))
    }

    /// Removes `key` if it still holds `entry` (a fresh replacement is left alone).
    pub(crate) fn remove_if_same(&self, key: u128, entry: &Arc<Entry>) -> bool {
        engine!(self, store => store.remove_if(key, |held| Arc::ptr_eq(held, entry)))
    }

    /// Removes the entries past every window in which they may still be served, counting each
    /// as an expiration. Reads already treat them as misses; this gives their memory back when
    /// their keys are never asked for again.
    pub(crate) fn sweep_expired(&self, now: u64) {
        engine!(self, store => store.remove_expired(|entry| entry.is_past_use(now)));
    }

    /// Applies the engine's pending work (moka's evictions and removals), so that counts are
    /// exact when it returns.
    pub(crate) fn run_pending_tasks(&self) {
        engine!(self, store => store.run_pending_tasks());
    }
}

/// Runs the store's housekeeping off the callers' path: the engine's pending work (moka's, which
/// otherwise runs inside `get`s and shows up as latency spikes) and the sweep. A plain thread,
/// not a task: the cache outlives any one tokio runtime (each `#[tokio::test]` has its own).
pub(crate) fn spawn_maintenance(
    store: Weak<Store>,
    every: Duration,
    now: impl Fn() -> u64 + Send + 'static,
) {
    /// Expired entries nobody asks for again are swept every this many rounds.
    const SWEEP_EVERY: u32 = 20;
    let spawned = std::thread::Builder::new()
        .name("cached-query-maintenance".into())
        .spawn(move || {
            let mut round = 0u32;
            while let Some(store) = store.upgrade() {
                round = round.wrapping_add(1);
                if round.is_multiple_of(SWEEP_EVERY) {
                    store.sweep_expired(now());
                }
                store.run_pending_tasks();
                drop(store);
                std::thread::sleep(every);
            }
        });
    // Without the thread, moka still runs its housekeeping inside calls and expired entries
    // wait for eviction: slower, still correct.
    drop(spawned);
}

/// Keys are already 128-bit xxh3 hashes: fold them instead of hashing them again.
#[derive(Clone, Default)]
pub(crate) struct PrehashedKey;

pub(crate) struct FoldHasher(u64);

impl BuildHasher for PrehashedKey {
    type Hasher = FoldHasher;
    fn build_hasher(&self) -> FoldHasher {
        FoldHasher(0)
    }
}

impl Hasher for FoldHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0 ^ u64::from_le_bytes(word)).rotate_left(29);
        }
    }
    fn write_u128(&mut self, key: u128) {
        self.0 ^= (key as u64) ^ ((key >> 64) as u64);
    }
}
