//! Tags as generation stamps (DESIGN.md §6).
//!
//! Each tag is interned into a [`TagCell`] holding a generation counter. A computation snapshots
//! the generations of its tags *before* the function runs and stores the snapshot in the entry;
//! a read compares the snapshot with the cells. Invalidating a tag bumps its generation: O(1)
//! whatever the number of entries, and a value computed from data older than the bump can never
//! validate again. Entries hold the cells they depend on (`Arc`), and so does the registry, which
//! drops the cells no one else holds when a shard has grown to twice its live cells: a tag whose
//! entries come and go (a value read from the shared tier with memory full, say) is found again
//! instead of being made again.

use crate::fast_map::{FastMap, SlotHasher};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// One tag's generation counter, and its name (shared with the registry's map and with the
/// names a shared entry's tags travel under, so that naming them costs no allocation).
#[derive(Debug)]
pub(crate) struct TagCell {
    generation: AtomicU64,
    name: Arc<str>,
}

/// A cell outside the registry, so that no invalidation reaches it: it never moves (its name,
/// empty, is never looked up).
impl Default for TagCell {
    fn default() -> Self {
        TagCell {
            generation: AtomicU64::new(0),
            name: Arc::from(""),
        }
    }
}

impl TagCell {
    /// The tag's name.
    pub(crate) fn name(&self) -> &Arc<str> {
        &self.name
    }

    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn bump(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn stamp(self: &Arc<Self>) -> Stamp {
        Stamp {
            generation: self.generation(),
            cell: Arc::clone(self),
        }
    }
}

/// A tag's generation as seen when a computation started.
#[derive(Clone, Debug)]
pub(crate) struct Stamp {
    cell: Arc<TagCell>,
    generation: u64,
}

impl Stamp {
    pub(crate) fn is_current(&self) -> bool {
        self.cell.generation() == self.generation
    }
}

/// The tag every entry carries, for [`invalidate_all`](crate::invalidate_all). It starts with a
/// control character, so no user tag can be the same.
pub(crate) const EPOCH_TAG: &str = "\u{1}epoch";

/// The tag only entries of shared functions carry (those that came from, or may go to, the
/// shared tier): bumped when the tier may have missed invalidation messages (a pub/sub
/// reconnection), so `local` functions and memory-only stores keep their entries. Never sent
/// to the tier: each instance has its own.
pub(crate) const SHARED_EPOCH_TAG: &str = "\u{1}shared";

/// The prefix of a key-level drop: `#[cache_put]` sends `"\u{1}key:<hash in hex>"` through the
/// invalidation channel, and each instance that receives it removes that key's in-memory entry
/// (through the hook its runtime installed, [`TagRegistry::on_key_drop`]) instead of bumping a
/// cell. A control character, like the other reserved tags: no user tag can be one.
pub(crate) const KEY_DROP_PREFIX: &str = "\u{1}key:";

/// The name a key-level drop of `hash` travels under (see [`KEY_DROP_PREFIX`]).
pub(crate) fn key_drop_tag(hash: u128) -> String {
    format!("{KEY_DROP_PREFIX}{hash:032x}")
}

/// What a runtime does with a key-level drop: removes the key from its store.
type KeyDropper = Box<dyn Fn(u128) + Send + Sync>;

const SHARDS: usize = 16;
const MIN_PRUNE_AT: usize = 64;

#[derive(Default)]
struct Shard {
    cells: FastMap<Arc<str>, Arc<TagCell>>,
    /// Cells only the map holds are swept when it reaches this size, which then doubles the live
    /// size: amortised O(1) per new tag, and memory bounded by twice the live tags.
    prune_at: usize,
}

impl Shard {
    /// Drops the cells no entry or computation holds. Under the shard's lock, a cell held by the
    /// map alone stays so: every other holder cloned it from the map under this lock.
    fn prune(&mut self) {
        self.cells.retain(|_, cell| Arc::strong_count(cell) > 1);
        self.prune_at = (self.cells.len() * 2).max(MIN_PRUNE_AT);
    }
}

/// Slots of the invalidation trace (see [`TagRegistry::moved_since`]).
const TRACE_SLOTS: usize = 1024;

/// The interned tags of one runtime.
pub(crate) struct TagRegistry {
    shards: Box<[Mutex<Shard>]>,
    hasher: SlotHasher,
    /// Counts invalidations.
    sequence: AtomicU64,
    /// Per slot (tags hashed into it), the `sequence` of the last invalidation of one of its tags,
    /// cell or no cell: how a computation whose tags are only known once it has finished
    /// (`result_tags`) learns whether one of them was invalidated while it ran.
    trace: Box<[AtomicU64]>,
    /// Where key-level drops go (see [`KEY_DROP_PREFIX`]); unset, they are ignored.
    key_dropper: OnceLock<KeyDropper>,
}

impl Default for TagRegistry {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: SlotHasher::default(),
            sequence: AtomicU64::new(0),
            trace: (0..TRACE_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            key_dropper: OnceLock::new(),
        }
    }
}

impl TagRegistry {
    fn shard(&self, tag: &str) -> &Mutex<Shard> {
        let index = (self.hasher.hash_one(tag) as usize) % self.shards.len();
        &self.shards[index]
    }

    /// The cell of `tag`, created if there is none.
    pub(crate) fn intern(&self, tag: &str) -> Arc<TagCell> {
        let mut shard = self
            .shard(tag)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(cell) = shard.cells.get(tag) {
            return Arc::clone(cell);
        }
        let name: Arc<str> = tag.into();
        let cell = Arc::new(TagCell {
            generation: AtomicU64::new(0),
            name: Arc::clone(&name),
        });
        if shard.cells.len() >= shard.prune_at {
            shard.prune();
        }
        shard.cells.insert(name, Arc::clone(&cell));
        cell
    }

    fn trace_slot(&self, tag: &str) -> &AtomicU64 {
        let index = (self.hasher.hash_one((tag, 1u8)) as usize) % self.trace.len();
        &self.trace[index]
    }

    /// The invalidation count now: a computation reads it before it starts, and later asks
    /// [`moved_since`](Self::moved_since) about tags it did not know then.
    pub(crate) fn sequence(&self) -> u64 {
        self.sequence.load(Ordering::SeqCst)
    }

    /// Whether `tag` may have been invalidated after `sequence` was read (or a tag sharing its
    /// trace slot was: a false positive only costs not storing one value). Call it after taking
    /// the tag's stamp: an invalidation it does not see then bumps a cell that stamp holds.
    pub(crate) fn moved_since(&self, tag: &str, sequence: u64) -> bool {
        self.trace_slot(tag).load(Ordering::SeqCst) > sequence
    }

    /// Bumps `tag`'s generation. A tag with no cell has nothing cached under it and nothing
    /// computing under it with a stamp (a computation holds its declared tags' cells from before
    /// it starts); the trace records it for computations whose tags come from their result.
    pub(crate) fn invalidate(&self, tag: &str) {
        if let Some(hex) = tag.strip_prefix(KEY_DROP_PREFIX) {
            if let (Ok(hash), Some(drop_key)) =
                (u128::from_str_radix(hex, 16), self.key_dropper.get())
            {
                drop_key(hash);
            }
            return;
        }
        let sequence = self.sequence.fetch_add(1, Ordering::SeqCst) + 1;
        self.trace_slot(tag).fetch_max(sequence, Ordering::SeqCst);
        let shard = self
            .shard(tag)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(cell) = shard.cells.get(tag) {
            cell.bump();
        }
    }

    /// Installs what a key-level drop does (the runtime's store removes the key); the first
    /// call wins.
    pub(crate) fn on_key_drop(&self, dropper: KeyDropper) {
        let _ = self.key_dropper.set(dropper);
    }

    /// How many tag cells the registry holds, unheld ones not yet swept included.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).cells.len())
            .sum()
    }

    #[cfg(test)]
    /// Sweeps every cell no one else holds now.
    pub(crate) fn prune(&self) {
        for shard in self.shards.iter() {
            shard.lock().unwrap_or_else(PoisonError::into_inner).prune();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bump_makes_earlier_stamps_stale() {
        let registry = TagRegistry::default();
        let stamp = registry.intern("user:1").stamp();
        let other = registry.intern("user:2").stamp();
        assert!(stamp.is_current());
        registry.invalidate("user:1");
        assert!(!stamp.is_current());
        assert!(other.is_current());
        assert!(registry.intern("user:1").stamp().is_current());
    }

    #[test]
    fn interning_returns_the_live_cell() {
        let registry = TagRegistry::default();
        let a = registry.intern("t");
        let b = registry.intern("t");
        assert!(Arc::ptr_eq(&a, &b));
    }

    #[test]
    fn a_cell_no_one_holds_is_found_again_with_its_generation() {
        let registry = TagRegistry::default();
        let first = registry.intern("t").stamp();
        drop(registry.intern("t"));
        registry.invalidate("t");
        drop(first);
        let again = registry.intern("t");
        assert_eq!(again.generation(), 1, "the bumped cell, not a new one");
        drop(again);
        registry.prune();
        assert_eq!(registry.len(), 0, "swept once no one holds it");
    }

    #[test]
    fn unheld_cells_are_collected() {
        let registry = TagRegistry::default();
        for i in 0..100_000 {
            drop(registry.intern(&format!("user:{i}")));
        }
        // Amortised sweeping keeps at most a bounded number of dead cells per shard.
        assert!(
            registry.len() <= SHARDS * MIN_PRUNE_AT * 2,
            "{}",
            registry.len()
        );
        let kept = registry.intern("kept");
        registry.prune();
        assert_eq!(registry.len(), 1);
        drop(kept);
    }

    #[test]
    fn the_trace_tells_which_tags_moved_since_a_sequence() {
        let registry = TagRegistry::default();
        let before = registry.sequence();
        assert!(!registry.moved_since("user:1", before));
        registry.invalidate("user:1");
        assert!(
            registry.moved_since("user:1", before),
            "no cell, still traced"
        );
        assert!(!registry.moved_since("user:1", registry.sequence()));
        let moved = (0..100)
            .filter(|i| registry.moved_since(&format!("other:{i}"), before))
            .count();
        assert!(moved < 5, "{moved} false positives of 100");
    }

    #[test]
    fn a_key_drop_reaches_the_hook_and_bumps_nothing() {
        let registry = TagRegistry::default();
        let dropped = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&dropped);
        registry.on_key_drop(Box::new(move |hash| {
            seen.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(hash)
        }));
        let before = registry.sequence();
        registry.invalidate(&key_drop_tag(0xfeed_u128 << 64 | 7));
        registry.invalidate("\u{1}key:not-hex");
        assert_eq!(
            *dropped.lock().unwrap_or_else(PoisonError::into_inner),
            vec![0xfeed_u128 << 64 | 7]
        );
        assert_eq!(registry.sequence(), before, "no invalidation was counted");
        assert_eq!(registry.len(), 0);
    }

    #[test]
    fn invalidating_an_unknown_tag_creates_nothing() {
        let registry = TagRegistry::default();
        registry.invalidate("never-used");
        assert_eq!(registry.len(), 0);
    }
}
