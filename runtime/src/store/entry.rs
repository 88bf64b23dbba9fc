//! One cached result and its accounting: built (counted in) by [`Entry::new`], counted out
//! when its engine reports it removed or when dropped, so `entries` and `weighted_size` hold
//! whichever engine holds it.

use crate::stats::Counters;
use crate::tags::Stamp;
use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;

/// One cached result.
pub(crate) struct Entry {
    /// The value (`P::Value`), or `None` for a cached `None` (`cache_none`).
    pub(crate) value: Option<Box<dyn Any + Send + Sync>>,
    /// Generations of the entry's tags (its function's, the global epoch, the user's) when the
    /// computation started.
    pub(crate) stamps: Box<[Stamp]>,
    /// The counters of the entry's function in the entry's instance: counted in when the entry
    /// is built, out when it is dropped (see [`Entry::new`]).
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
    /// Still counted in `entries` and `weighted_size`: cleared by the first of the engine's
    /// removal notice and the drop (moka holds removed entries until its housekeeping runs).
    counted_in: AtomicBool,
}

/// What an entry is made of, before it is counted in.
pub(crate) struct NewEntry {
    pub(crate) value: Option<Box<dyn Any + Send + Sync>>,
    /// The value's encoded size (or its estimate for values kept in memory only).
    pub(crate) value_size: usize,
    pub(crate) stamps: Vec<Stamp>,
    pub(crate) counters: &'static Counters,
    pub(crate) expires_at_nanos: u64,
    pub(crate) serve_on_error_until_nanos: u64,
    pub(crate) revalidate_until_nanos: u64,
    pub(crate) compute_nanos: u64,
}

impl Entry {
    /// The entry, counted in its function's `entries` and `weighted_size` until it is dropped:
    /// the one place an entry is accounted for, whichever engine holds it and however it
    /// leaves (replaced, removed, evicted, swept).
    pub(crate) fn new(parts: NewEntry, engine_overhead: usize) -> Arc<Entry> {
        let entry = Entry {
            weight: Entry::weigh(parts.value_size, parts.stamps.len(), engine_overhead),
            value: parts.value,
            stamps: parts.stamps.into_boxed_slice(),
            counters: parts.counters,
            expires_at_nanos: parts.expires_at_nanos,
            serve_on_error_until_nanos: parts.serve_on_error_until_nanos,
            revalidate_until_nanos: parts.revalidate_until_nanos,
            compute_nanos: parts.compute_nanos,
            counted_in: AtomicBool::new(true),
        };
        entry.counters.entries.fetch_add(1, Relaxed);
        entry
            .counters
            .weighted_size
            .fetch_add(i64::from(entry.weight), Relaxed);
        Arc::new(entry)
    }

    /// The weight of an entry holding a value of `value_size` bytes and `stamps` tag stamps:
    /// what it really holds (the entry itself, its boxed value, its stamps) plus the engine's
    /// own bookkeeping per entry (the key, its slot, the `Arc`'s counts).
    fn weigh(value_size: usize, stamps: usize, engine_overhead: usize) -> u32 {
        let held = std::mem::size_of::<Entry>()
            + value_size
            + stamps * std::mem::size_of::<Stamp>()
            + engine_overhead;
        u32::try_from(held).unwrap_or(u32::MAX)
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

impl Entry {
    /// Counts the entry out of `entries` and `weighted_size`, once: when its engine reports it
    /// removed, or when it is dropped, whichever comes first.
    pub(crate) fn count_out(&self) {
        if self.counted_in.swap(false, Relaxed) {
            self.counters.entries.fetch_sub(1, Relaxed);
            self.counters
                .weighted_size
                .fetch_sub(i64::from(self.weight), Relaxed);
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.count_out();
    }
}
