//! The in-memory store (L1): one moka cache bounded in bytes, TinyLFU, per-entry TTL.

use crate::function::FunctionState;
use crate::stats::bump;
use crate::tags::Stamp;
use moka::future::Cache;
use moka::notification::RemovalCause;
use std::any::Any;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// moka's own bookkeeping per entry, charged against the capacity with the value's size
/// (DESIGN.md §5: about 320 bytes measured).
pub(crate) const ENTRY_OVERHEAD: usize = 320;

/// One cached result.
pub(crate) struct Entry {
    /// The value (`P::Value`), or `None` for a cached `None` (`cache_none`).
    pub(crate) value: Option<Box<dyn Any + Send + Sync>>,
    /// Generations of the entry's tags (its function's, the global epoch, the user's) when the
    /// computation started.
    pub(crate) stamps: Box<[Stamp]>,
    pub(crate) function: &'static FunctionState,
    pub(crate) ttl: Duration,
    /// Deadline on the manual clock, when one is installed (moka keeps real time).
    pub(crate) expires_at_nanos: u64,
    pub(crate) weight: u32,
}

impl Entry {
    pub(crate) fn is_fresh(&self, manual_now: Option<u64>) -> bool {
        manual_now.is_none_or(|now| now < self.expires_at_nanos)
            && self.stamps.iter().all(Stamp::is_current)
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

struct EntryExpiry;

impl moka::Expiry<u128, Arc<Entry>> for EntryExpiry {
    fn expire_after_create(&self, _: &u128, entry: &Arc<Entry>, _: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    // moka's default keeps the old deadline on update; a refreshed entry gets its own TTL.
    fn expire_after_update(
        &self,
        _: &u128,
        entry: &Arc<Entry>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

pub(crate) type Store = Cache<u128, Arc<Entry>, PrehashedKey>;

pub(crate) fn build(max_capacity_bytes: u64) -> Store {
    Cache::builder()
        .max_capacity(max_capacity_bytes)
        .weigher(|_, entry: &Arc<Entry>| entry.weight)
        .expire_after(EntryExpiry)
        .eviction_listener(on_removal)
        .build_with_hasher(PrehashedKey)
}

fn on_removal(_: Arc<u128>, entry: Arc<Entry>, cause: RemovalCause) {
    let counters = &entry.function.counters;
    counters.entries.fetch_sub(1, Relaxed);
    counters
        .weighted_size
        .fetch_sub(i64::from(entry.weight), Relaxed);
    match cause {
        RemovalCause::Size => bump(&counters.evictions),
        RemovalCause::Expired => bump(&counters.expirations),
        RemovalCause::Explicit | RemovalCause::Replaced => {}
    }
}

/// Runs moka's housekeeping off the callers' path (DESIGN.md §5: otherwise it runs inside `get`s
/// and shows up as latency spikes). A plain thread, not a task: the cache outlives any one tokio
/// runtime (each `#[tokio::test]` has its own) and moka's futures need no executor of their own.
pub(crate) fn spawn_maintenance(store: Weak<Store>, every: Duration) {
    let spawned = std::thread::Builder::new()
        .name("cached-query-maintenance".into())
        .spawn(move || {
            while let Some(store) = store.upgrade() {
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
