//! One cached result and its accounting. The value lives in the entry's own allocation (one
//! pointer from the engine's slot to everything a hit reads, beside what every entry of its
//! function shares in its [`Origin`]); a [`Pending`] value waits, boxed,
//! until the entry's metadata is known. [`Entry::new`] counts the entry in; it is counted out
//! when its engine reports it removed or when it is dropped, so `entries` and `weighted_size`
//! hold whichever engine holds it.

use super::origin::Origin;
use super::stamps::{self, ImplicitStamp, OwnStamps, Stamps};
use crate::stats::Counters;
use crate::tags::Stamp;
use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::Relaxed;

/// One cached result: what the cache knows about it, then its value (`P::Value`, a cached
/// error, or [`Nothing`] for a cached `None`), erased once stored.
pub(crate) struct Entry<V: ?Sized = dyn Any + Send + Sync> {
    pub(crate) meta: Meta,
    pub(crate) value: V,
}

/// The value of a cached `None` (`cache_none`).
pub(crate) struct Nothing;

/// Everything an entry holds besides its value: what a hit reads, inline (48 bytes); what only
/// some entries need, behind one pointer that most leave empty.
pub(crate) struct Meta {
    /// What the entry shares with every entry of its function in its instance: the counters
    /// it is counted in (when it is built, out when it leaves: see [`Entry::new`]), the cells
    /// of its implicit tags, its windows after the deadline.
    pub(crate) origin: &'static Origin,
    /// The origin's [`implicit_generation`](Origin::implicit_generation) when the computation
    /// started.
    implicit_generation: u64,
    /// Deadline on the runtime's clock ([`Runtime::now_nanos`](crate::runtime::Runtime));
    /// `u64::MAX` for an entry that never expires.
    pub(crate) expires_at_nanos: u64,
    /// The high half of the entry's key (the engine holds it under the low half): a read of
    /// another key sharing the slot is told apart by it.
    pub(crate) key_high: u64,
    /// The entry's own tags' stamps and its age, when it has either; `None` for most.
    more: Option<Box<More>>,
    /// What the entry is charged against the capacity (see [`Entry::new`]); 0 once counted out.
    weight: AtomicU32,
    /// How long the computation of the value took, in microseconds on the same clock:
    /// `early_refresh` starts recomputing about this long before the deadline. 0 when unknown
    /// (read from Redis).
    compute_micros: u32,
}

/// What only some entries hold.
struct More {
    /// The stamps of the entry's own tags.
    stamps: OwnStamps,
    /// When it was stored, on the runtime's clock: kept when its origin keeps ages
    /// (`age_of`), else 0.
    stored_at_nanos: u64,
}

/// What an entry is made of, besides its value, before it is counted in.
pub(crate) struct NewEntry {
    pub(crate) value: Pending,
    /// What the value weighs: its encoded size, or what its type's weigher says.
    pub(crate) value_size: usize,
    /// The generations the entry is stored under, with its origin.
    pub(crate) stamps: Stamps,
    pub(crate) stored_at_nanos: u64,
    pub(crate) expires_at_nanos: u64,
    pub(crate) compute_nanos: u64,
}

/// A value on its way into an entry, boxed with its type until the entry is built around it.
pub(crate) struct Pending(Box<dyn IntoEntry>);

trait IntoEntry: Send + Sync {
    fn value(&self) -> &(dyn Any + Send + Sync);
    fn into_entry(self: Box<Self>, meta: Meta) -> Arc<Entry>;
}

struct Holding<V>(V);

impl<V: Any + Send + Sync> IntoEntry for Holding<V> {
    fn value(&self) -> &(dyn Any + Send + Sync) {
        &self.0
    }

    fn into_entry(self: Box<Self>, meta: Meta) -> Arc<Entry> {
        Arc::new(Entry {
            meta,
            value: self.0,
        })
    }
}

impl Pending {
    pub(crate) fn new<V: Any + Send + Sync>(value: V) -> Pending {
        Pending(Box::new(Holding(value)))
    }

    /// A cached `None`.
    pub(crate) fn nothing() -> Pending {
        Pending::new(Nothing)
    }

    /// The value; `None` for a cached `None`.
    pub(crate) fn value(&self) -> Option<&(dyn Any + Send + Sync)> {
        let value = self.0.value();
        (!value.is::<Nothing>()).then_some(value)
    }
}

impl Entry {
    /// The entry, counted in its function's `entries` and `weighted_size` until it leaves: the
    /// one place an entry is accounted for, whichever engine holds it and however it leaves
    /// (replaced, removed, evicted, swept).
    pub(crate) fn new(parts: NewEntry, key_high: u64, engine_overhead: usize) -> Arc<Entry> {
        let Stamps {
            origin,
            implicit_generation,
            tags,
        } = parts.stamps;
        let more = (!tags.is_empty() || origin.keeps_age).then(|| {
            Box::new(More {
                stamps: tags,
                stored_at_nanos: if origin.keeps_age {
                    parts.stored_at_nanos
                } else {
                    0
                },
            })
        });
        let more_bytes = more.as_deref().map_or(0, More::bytes);
        let weight = Entry::weigh(parts.value_size, more_bytes, engine_overhead);
        let meta = Meta {
            origin,
            implicit_generation,
            expires_at_nanos: parts.expires_at_nanos,
            key_high,
            more,
            weight: AtomicU32::new(weight),
            compute_micros: u32::try_from(parts.compute_nanos / 1_000).unwrap_or(u32::MAX),
        };
        let counters = meta.origin.counters;
        counters.entries.fetch_add(1, Relaxed);
        counters.weighted_size.fetch_add(i64::from(weight), Relaxed);
        parts.value.0.into_entry(meta)
    }

    /// The weight of an entry holding a value of `value_size` bytes and `more_bytes` bytes
    /// beside its metadata (its own tags' stamps, its age): what it really holds plus the
    /// engine's own bookkeeping per entry (the key, its slot, the `Arc`'s counts). Never 0.
    fn weigh(value_size: usize, more_bytes: usize, engine_overhead: usize) -> u32 {
        let held = std::mem::size_of::<Meta>() + value_size + more_bytes + engine_overhead;
        u32::try_from(held).unwrap_or(u32::MAX).max(1)
    }

    /// What the entry is charged against the capacity (for the engine's weigher: it stays the
    /// same while the engine holds the entry).
    pub(crate) fn weight(&self) -> u32 {
        self.meta.weight.load(Relaxed)
    }
}

impl<V: ?Sized> Entry<V> {
    #[inline]
    pub(crate) fn counters(&self) -> &'static Counters {
        self.meta.origin.counters
    }

    pub(crate) fn is_expired(&self, now: u64) -> bool {
        now >= self.meta.expires_at_nanos
    }

    #[inline(always)]
    fn tags_current(&self) -> bool {
        stamps::all_current(self.implicit_stamp(), self.own_stamps())
    }

    /// The stamps of its own tags; `None` when it has none.
    #[inline(always)]
    fn own_stamps(&self) -> Option<&[Stamp]> {
        self.meta.more.as_deref().map(|more| &*more.stamps)
    }

    /// When it was stored, on the runtime's clock, if its origin keeps ages.
    pub(crate) fn stored_at_nanos(&self) -> Option<u64> {
        let more = self.meta.more.as_deref()?;
        self.meta.origin.keeps_age.then_some(more.stored_at_nanos)
    }

    /// How long its computation took, in nanoseconds on the cache's clock (0: unknown).
    pub(crate) fn compute_nanos(&self) -> u64 {
        u64::from(self.meta.compute_micros) * 1_000
    }

    /// The end of a window of `ms` after the deadline.
    fn after_deadline(&self, ms: u32) -> u64 {
        self.meta
            .expires_at_nanos
            .saturating_add(u64::from(ms) * 1_000_000)
    }

    /// Expired by time (never by tags) but within its `stale_if_error` window.
    pub(crate) fn is_servable_on_error(&self, now: u64) -> bool {
        now < self.after_deadline(self.meta.origin.serve_on_error_ms) && self.tags_current()
    }

    /// Expired by time (never by tags) but within its `stale_while_revalidate` window.
    pub(crate) fn is_revalidatable(&self, now: u64) -> bool {
        now < self.after_deadline(self.meta.origin.revalidate_ms) && self.tags_current()
    }

    /// Past every window in which it may still be served: the sweep removes it.
    pub(crate) fn is_past_use(&self, now: u64) -> bool {
        let origin = self.meta.origin;
        let widest = origin.serve_on_error_ms.max(origin.revalidate_ms);
        now >= self.after_deadline(widest)
    }

    /// Still useful after expiry (one of the windows is open and no tag moved): kept, not
    /// removed, when a read finds it expired.
    pub(crate) fn is_kept_after_expiry(&self, now: u64) -> bool {
        !self.is_past_use(now) && self.tags_current()
    }

    #[inline(always)]
    pub(crate) fn is_fresh(&self, now: u64) -> bool {
        !self.is_expired(now) && self.tags_current()
    }

    /// [`is_fresh`](Self::is_fresh) but for its origin's implicit tags, which the caller checks
    /// against [`implicit_stamp`](Self::implicit_stamp) (the hit path: after the engine's lock
    /// is released, as they are not the entry's).
    #[inline(always)]
    pub(crate) fn is_fresh_by_own_stamps(&self, now: u64) -> bool {
        !self.is_expired(now) && stamps::own_current(self.own_stamps())
    }

    /// The stamp of its origin's implicit tags.
    #[inline(always)]
    pub(crate) fn implicit_stamp(&self) -> ImplicitStamp {
        ImplicitStamp {
            origin: self.meta.origin,
            generation: self.meta.implicit_generation,
        }
    }
}

impl Meta {
    /// Counts the entry out of `entries` and `weighted_size`, once: when its engine reports it
    /// removed, or when it is dropped, whichever comes first.
    pub(crate) fn count_out(&self) {
        let weight = self.weight.swap(0, Relaxed);
        if weight != 0 {
            let counters = self.origin.counters;
            counters.entries.fetch_sub(1, Relaxed);
            counters.weighted_size.fetch_sub(i64::from(weight), Relaxed);
        }
    }
}

impl Drop for Meta {
    fn drop(&mut self) {
        self.count_out();
    }
}

impl More {
    /// What it holds: itself and its stamps.
    fn bytes(&self) -> usize {
        let spilled = if self.stamps.spilled() {
            std::mem::size_of_val(&*self.stamps)
        } else {
            0
        };
        std::mem::size_of::<More>() + spilled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_hit_reads_fits_in_48_bytes() {
        assert_eq!(std::mem::size_of::<Meta>(), 48);
    }

    #[test]
    fn the_hit_path_sees_every_tag_move_its_own_in_the_entry_the_implicit_after_it() {
        let tags = crate::tags::TagRegistry::default();
        let origin = Origin::for_test(vec![tags.intern("fn"), tags.intern("epoch")]);
        let entry = |own: &[&str]| {
            let own = own.iter().map(|name| tags.intern(name).stamp()).collect();
            let parts = NewEntry {
                value: Pending::new(7u32),
                value_size: 4,
                stamps: Stamps::take(origin, own),
                stored_at_nanos: 0,
                expires_at_nanos: 100,
                compute_nanos: 0,
            };
            Entry::new(parts, 0, 0)
        };
        // What the hit path checks, in its two steps, against what every other read checks.
        let fresh_on_a_hit = |entry: &Entry, now| {
            entry.is_fresh_by_own_stamps(now) && entry.implicit_stamp().is_current()
        };

        let tagged = entry(&["user:1"]);
        assert!(fresh_on_a_hit(&tagged, 99) && tagged.is_fresh(99));
        assert!(!fresh_on_a_hit(&tagged, 100), "past its deadline");
        assert!(!tagged.is_fresh(100));

        tags.invalidate("user:1");
        assert!(!tagged.is_fresh_by_own_stamps(0), "its own tag moved");
        assert!(!fresh_on_a_hit(&tagged, 0) && !tagged.is_fresh(0));

        let untagged = entry(&[]);
        assert!(fresh_on_a_hit(&untagged, 0));
        tags.invalidate("epoch");
        assert!(
            untagged.is_fresh_by_own_stamps(0),
            "the implicit tags are not checked in the entry"
        );
        assert!(!fresh_on_a_hit(&untagged, 0), "but after it, by its stamp");
        assert!(!untagged.is_fresh(0));
    }

    #[test]
    fn one_stamp_is_held_inline_and_more_are_weighed_where_they_spill() {
        let tags = crate::tags::TagRegistry::default();
        let stamps = |names: &[&str]| -> OwnStamps {
            names.iter().map(|name| tags.intern(name).stamp()).collect()
        };
        let more = |stamps| More {
            stamps,
            stored_at_nanos: 0,
        };
        let one = more(stamps(&["a"]));
        assert!(!one.stamps.spilled());
        assert_eq!(one.bytes(), std::mem::size_of::<More>());
        let two = more(stamps(&["a", "b"]));
        assert_eq!(
            two.bytes(),
            std::mem::size_of::<More>() + 2 * std::mem::size_of::<crate::tags::Stamp>()
        );
    }
}
