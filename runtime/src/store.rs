//! The in-memory store (L1): one moka cache bounded in bytes, TinyLFU, per-entry TTL.

use crate::stats::{Counters, bump};
use crate::tags::Stamp;
use moka::future::Cache;
use moka::notification::RemovalCause;
use std::any::Any;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// moka's own bookkeeping per entry, charged against the capacity with the value's size
/// (DESIGN.md §5: about 320 bytes measured).
const ENTRY_OVERHEAD: usize = 320;

/// One cached result.
pub(crate) struct Entry {
    /// The value (`P::Value`), or `None` for a cached `None` (`cache_none`).
    pub(crate) value: Option<Box<dyn Any + Send + Sync>>,
    /// Generations of the entry's tags (its function's, the global epoch, the user's) when the
    /// computation started.
    pub(crate) stamps: Box<[Stamp]>,
    /// The counters of the entry's function in the entry's instance: counted in on insert,
    /// out on removal.
    pub(crate) counters: &'static Counters,
    /// Deadline on the runtime's clock ([`Runtime::now_nanos`](crate::runtime::Runtime)).
    pub(crate) expires_at_nanos: u64,
    /// Until when the entry may still be served if the function fails (`stale_if_error`);
    /// equal to the deadline without that option.
    pub(crate) serve_on_error_until_nanos: u64,
    /// Until when the entry is served while one background call recomputes it
    /// (`stale_while_revalidate`); equal to the deadline without that option.
    pub(crate) revalidate_until_nanos: u64,
    /// How long the computation of the value took, on the same clock: `early_refresh` starts
    /// recomputing about this long before the deadline. 0 when unknown (read from Redis).
    pub(crate) compute_nanos: u64,
    /// What the entry is charged against the capacity: see [`Entry::weigh`].
    pub(crate) weight: u32,
}

impl Entry {
    /// The weight of an entry holding a value of `value_size` bytes and `stamps` tag stamps:
    /// the value, the stamps and the store's own bookkeeping.
    pub(crate) fn weigh(value_size: usize, stamps: usize) -> u32 {
        let stamps_size = stamps * std::mem::size_of::<Stamp>();
        u32::try_from(value_size + stamps_size + ENTRY_OVERHEAD).unwrap_or(u32::MAX)
    }

    pub(crate) fn is_expired(&self, now: u64) -> bool {
        now >= self.expires_at_nanos
    }

    fn tags_current(&self) -> bool {
        self.stamps.iter().all(Stamp::is_current)
    }

    /// Expired by time (never by tags) but within its `stale_if_error` window.
    pub(crate) fn is_servable_on_error(&self, now: u64) -> bool {
        now < self.serve_on_error_until_nanos && self.tags_current()
    }

    /// Expired by time (never by tags) but within its `stale_while_revalidate` window.
    pub(crate) fn is_revalidatable(&self, now: u64) -> bool {
        now < self.revalidate_until_nanos && self.tags_current()
    }

    /// Past every window in which it may still be served: the sweep removes it.
    pub(crate) fn is_past_use(&self, now: u64) -> bool {
        now >= self
            .serve_on_error_until_nanos
            .max(self.revalidate_until_nanos)
    }

    /// Still useful after expiry (one of the windows is open and no tag moved): kept, not
    /// removed, when a read finds it expired.
    pub(crate) fn is_kept_after_expiry(&self, now: u64) -> bool {
        !self.is_past_use(now) && self.tags_current()
    }

    pub(crate) fn is_fresh(&self, now: u64) -> bool {
        !self.is_expired(now) && self.tags_current()
    }
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

pub(crate) type Store = Cache<u128, Arc<Entry>, PrehashedKey>;

pub(crate) fn build(max_capacity_bytes: u64) -> Store {
    Cache::builder()
        .max_capacity(max_capacity_bytes)
        .weigher(|_, entry: &Arc<Entry>| entry.weight)
        .eviction_listener(on_removal)
        .build_with_hasher(PrehashedKey)
}

/// Stores `entry` under `key`, counting it in (its removal counts it out, in `on_removal`).
pub(crate) async fn insert(store: &Store, key: u128, entry: Entry) -> Arc<Entry> {
    let entry = Arc::new(entry);
    entry.counters.entries.fetch_add(1, Relaxed);
    entry
        .counters
        .weighted_size
        .fetch_add(i64::from(entry.weight), Relaxed);
    store.insert(key, Arc::clone(&entry)).await;
    entry
}

fn on_removal(_: Arc<u128>, entry: Arc<Entry>, cause: RemovalCause) {
    let counters = entry.counters;
    counters.entries.fetch_sub(1, Relaxed);
    counters
        .weighted_size
        .fetch_sub(i64::from(entry.weight), Relaxed);
    match cause {
        RemovalCause::Size => bump(&counters.evictions),
        // Expiry is ours (see `sweep_expired`), counted where it is detected.
        RemovalCause::Expired | RemovalCause::Explicit | RemovalCause::Replaced => {}
    }
}

/// Runs moka's housekeeping off the callers' path (DESIGN.md §5: otherwise it runs inside `get`s
/// and shows up as latency spikes). A plain thread, not a task: the cache outlives any one tokio
/// runtime (each `#[tokio::test]` has its own) and moka's futures need no executor of their own.
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
                    block_on(sweep_expired(&store, now()));
                }
                block_on(store.run_pending_tasks());
                drop(store);
                std::thread::sleep(every);
            }
        });
    // Without the thread moka still runs its housekeeping inside calls: slower, still correct.
    drop(spawned);
}

/// Polls a future to completion on this thread, parking between wake-ups.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

/// Removes the entries whose deadline has passed. Reads already treat them as misses; this
/// gives their memory back when their keys are never asked for again.
pub(crate) async fn sweep_expired(store: &Store, now: u64) {
    let expired: Vec<(u128, Arc<Entry>)> = store
        .iter()
        .filter(|(_, entry)| entry.is_past_use(now))
        .map(|(key, entry)| (*key, entry))
        .collect();
    for (key, entry) in expired {
        if remove_if_same(store, key, &entry).await {
            bump(&entry.counters.expirations);
        }
    }
}

/// Removes `key` if it still holds `entry` (a fresh replacement is left alone).
pub(crate) async fn remove_if_same(store: &Store, key: u128, entry: &Arc<Entry>) -> bool {
    use moka::ops::compute::{CompResult, Op};
    let result = store
        .entry(key)
        .and_compute_with(|current| {
            let same = current.is_some_and(|c| Arc::ptr_eq(c.value(), entry));
            std::future::ready(if same { Op::Remove } else { Op::Nop })
        })
        .await;
    matches!(result, CompResult::Removed(_))
}
