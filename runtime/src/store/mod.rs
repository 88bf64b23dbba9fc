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
mod origin;
mod quick;
mod stamps;

pub(crate) use entry::{Entry, NewEntry, Nothing, Pending};
pub(crate) use origin::{Implicit, Origin, OriginSpec, Origins};
pub(crate) use stamps::{ImplicitStamp, OwnStamps, Stamps};
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
        let (slot, high) = split(key);
        engine!(self, store => store.get(slot)).filter(|entry| entry.meta.key_high == high)
    }

    /// What `read` makes of the entry under `key`; `None` if there is none, or if `read` says
    /// `None`. The engine lends the entry without a reference being taken to it (the hit
    /// path); `read`'s answer is passed on as it is, not wrapped (a hit's value is not copied
    /// again). `read` must not call into the cache: on quick_cache it runs under the shard's
    /// read lock.
    #[inline(always)]
    pub(crate) fn read<T>(&self, key: u128, read: impl FnOnce(&Entry) -> Option<T>) -> Option<T> {
        let (slot, high) = split(key);
        match self {
            Store::Quick(store) => {
                let shard = store.read_shard(slot);
                let entry = shard.get(&slot)?;
                if entry.meta.key_high != high {
                    return None;
                }
                read(entry)
            }
            #[cfg(feature = "moka")]
            Store::Moka(store) => {
                let entry = store.get(slot)?;
                if entry.meta.key_high != high {
                    return None;
                }
                read(&entry)
            }
        }
    }

    /// Builds the entry (counting it in) and stores it under `key`, replacing any other.
    pub(crate) fn insert(&self, key: u128, parts: NewEntry) -> Arc<Entry> {
        let (slot, high) = split(key);
        engine!(self, store => {
            let entry = Entry::new(parts, high, store.overhead());
            store.insert(slot, Arc::clone(&entry));
            entry
        })
    }

    /// Removes the entry under `key`; whether there was one.
    pub(crate) fn remove(&self, key: u128) -> bool {
        let (slot, high) = split(key);
        engine!(self, store => store.remove_if(slot, |held| held.meta.key_high == high))
    }

    /// Removes `key` if it still holds `entry` (a fresh replacement is left alone).
    pub(crate) fn remove_if_same(&self, key: u128, entry: &Arc<Entry>) -> bool {
        let (slot, _) = split(key);
        engine!(self, store => store.remove_if(slot, |held| Arc::ptr_eq(held, entry)))
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

/// A key's slot in the engine (its low half) and the half its entry keeps (the high one). An
/// 8-byte slot key keeps the engine's slots small and 8-byte aligned; two keys sharing a slot
/// (one pair in 2⁶⁴) replace each other there, and a read that finds the other key's entry,
/// told apart by the high half, is a miss: never the other key's value.
#[inline]
fn split(key: u128) -> (u64, u64) {
    (key as u64, (key >> 64) as u64)
}

/// Slot keys are already halves of 128-bit key hashes (`key_hash.rs`), and the flights are keyed
/// by the whole hash: used as they are, not hashed again.
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
    fn write_u64(&mut self, key: u64) {
        self.0 ^= key;
    }
    /// A whole 128-bit key (a batch's set of distinct items): its halves folded, not its bytes
    /// looped over.
    fn write_u128(&mut self, key: u128) {
        self.0 ^= key as u64 ^ (key >> 64) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(value: u32) -> NewEntry {
        static ORIGIN: std::sync::LazyLock<&'static Origin> =
            std::sync::LazyLock::new(|| Origin::for_test(Vec::new()));
        let origin = *ORIGIN;
        NewEntry {
            value: Pending::new(value),
            value_size: 4,
            stamps: Stamps::take(origin, OwnStamps::new()),
            stored_at_nanos: 0,
            expires_at_nanos: u64::MAX,
            compute_nanos: 0,
        }
    }

    fn value_of(entry: &Entry) -> Option<u32> {
        entry.value.downcast_ref::<u32>().copied()
    }

    #[test]
    fn keys_sharing_a_slot_never_read_each_others_entries() {
        let store = Store::new(Engine::default(), 1 << 20);
        let first = (1u128 << 64) | 7;
        let second = (2u128 << 64) | 7; // the same low half: the same slot
        store.insert(first, parts(1));
        assert_eq!(store.get(first).as_deref().and_then(value_of), Some(1));
        assert!(
            store.get(second).is_none(),
            "the other key's entry is a miss"
        );
        assert!(
            !store.remove(second),
            "nor is it removed on the other key's behalf"
        );

        store.insert(second, parts(2));
        assert_eq!(store.get(second).as_deref().and_then(value_of), Some(2));
        assert!(
            store.get(first).is_none(),
            "replaced in the slot: a miss, never the value 2"
        );
        assert!(store.remove(second));
        assert!(store.get(second).is_none());
    }

    #[test]
    fn a_read_lends_the_entry_without_taking_a_reference() {
        for engine in engines() {
            let store = Store::new(engine, 1 << 20);
            let key = (3u128 << 64) | 9;
            let held = store.insert(key, parts(5));
            let references = Arc::strong_count(&held);
            let read = store.read(key, |entry| {
                // moka has no borrowing read: it hands out a clone of the `Arc`.
                if engine == Engine::QuickCache {
                    assert_eq!(Arc::strong_count(&held), references, "none taken");
                }
                value_of(entry)
            });
            assert_eq!(read, Some(5), "{engine:?}");
            let other_key_in_the_slot = (4u128 << 64) | 9;
            assert_eq!(
                store.read(other_key_in_the_slot, value_of),
                None,
                "{engine:?}"
            );
            assert_eq!(
                store.read(key, |_| None::<u32>),
                None,
                "{engine:?}: read declined"
            );
        }
    }

    #[test]
    fn entries_spread_over_every_shard() {
        let store = Store::new(Engine::QuickCache, 1 << 30);
        for i in 0..4096u64 {
            // The slot keys' high bits vary as xxh3's do.
            let slot = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            store.insert(u128::from(slot), parts(1));
        }
        let lengths = match &store {
            Store::Quick(quick) => quick.shard_lengths(),
            #[cfg(feature = "moka")]
            Store::Moka(_) => unreachable!("built on quick_cache"),
        };
        assert!(lengths.len() > 1, "{lengths:?}");
        assert!(lengths.iter().all(|&len| len > 0), "{lengths:?}");
    }

    fn engines() -> Vec<Engine> {
        vec![
            Engine::QuickCache,
            #[cfg(feature = "moka")]
            Engine::Moka,
        ]
    }
}
