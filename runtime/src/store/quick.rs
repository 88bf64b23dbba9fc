//! The quick_cache engine: S3-FIFO-like with ghost keys, weighed in bytes, no background work;
//! evictions are reported through its `Lifecycle`.
//!
//! Sharded here, over quick_cache's single-threaded `unsync::Cache`, each shard behind a
//! read-write lock: its `get` lends the entry (`&Val`) where the sharded `sync::Cache` clones
//! it, so a hit reads its entry under the shard's read lock without touching the entry's
//! reference count (two locked instructions on a line every thread hitting the key shares).

use super::{Entry, PrehashedKey};
use crate::stats::bump;
use quick_cache::unsync::Cache;
use quick_cache::{Lifecycle, OptionsBuilder, Weighter};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Each shard holds at least this much: quick_cache refuses an entry heavier than its shard's
/// capacity, so the shard size is the largest value the cache can hold.
const MIN_SHARD_BYTES: u64 = 4 << 20;

/// How many shards: 4 per core (as quick_cache's own sharded cache takes), fewer when the
/// capacity is small, so that a shard still holds a value of [`MIN_SHARD_BYTES`]. A power of
/// two, chosen by the slot key's bits.
fn shard_count(max_capacity_bytes: u64) -> usize {
    let by_cores = std::thread::available_parallelism().map_or(4, |n| n.get() * 4);
    let by_size = usize::try_from(max_capacity_bytes / MIN_SHARD_BYTES).unwrap_or(usize::MAX);
    let wanted = by_cores.min(by_size).max(1);
    1 << wanted.ilog2()
}

/// Which bits of the slot key choose the shard: above those the shard's table uses (its low
/// bits place the key, its top seven tag it), so keys spread over shards and within each alike.
const SHARD_SHIFT: u32 = 40;

/// quick_cache's own bookkeeping per entry (the key, the slot, the queue links: about 51 B
/// measured, BENCHMARKS.md), plus the `Arc`'s two counts.
const OVERHEAD: usize = 64;

pub(super) type Shard = Cache<u64, Arc<Entry>, ByWeight, PrehashedKey, CountEvictions>;

pub(crate) struct QuickStore {
    shards: Box<[RwLock<Shard>]>,
    /// `shards.len() - 1`.
    mask: usize,
}

#[derive(Clone)]
pub(super) struct ByWeight;

impl Weighter<u64, Arc<Entry>> for ByWeight {
    fn weight(&self, _: &u64, entry: &Arc<Entry>) -> u64 {
        u64::from(entry.weight())
    }
}

#[derive(Clone)]
pub(super) struct CountEvictions;

impl Lifecycle<u64, Arc<Entry>> for CountEvictions {
    /// What left the cache during one insertion: counted by [`QuickStore::insert`], dropped
    /// (and counted out) after the shard lock is released.
    type RequestState = Removed;

    fn on_evict(&self, removed: &mut Removed, key: u64, entry: Arc<Entry>) {
        match removed.first {
            None => removed.first = Some((key, entry)),
            Some(_) => removed.more.push((key, entry)),
        }
    }
}

/// The entries one insertion removed: most remove none or one (an eviction at capacity, a
/// replaced entry, the entry itself refused for its size), kept without allocating.
#[derive(Default)]
pub(super) struct Removed {
    first: Option<(u64, Arc<Entry>)>,
    more: Vec<(u64, Arc<Entry>)>,
}

impl Removed {
    fn iter(&self) -> impl Iterator<Item = &(u64, Arc<Entry>)> {
        self.first.iter().chain(&self.more)
    }
}

impl QuickStore {
    pub(super) fn new(max_capacity_bytes: u64) -> Self {
        let count = shard_count(max_capacity_bytes);
        let shards = u64::try_from(count).unwrap_or(1);
        // An estimate of how many entries fit (entries of small values weigh ~200 B): it sizes
        // each shard's ghost list, the keys recently evicted that the policy readmits.
        let estimated_items = usize::try_from(max_capacity_bytes / 256)
            .unwrap_or(usize::MAX)
            .clamp(64, 1 << 24)
            .div_ceil(count);
        let shard_bytes = (max_capacity_bytes / shards).max(1);
        let shards = (0..count)
            .map(|_| RwLock::new(new_shard(estimated_items, shard_bytes)))
            .collect();
        QuickStore {
            shards,
            mask: count - 1,
        }
    }

    pub(super) fn overhead(&self) -> usize {
        OVERHEAD
    }

    #[inline]
    fn shard(&self, key: u64) -> &RwLock<Shard> {
        // The length is a power of two and `mask` one less: always in range.
        &self.shards[(key >> SHARD_SHIFT) as usize & self.mask]
    }

    /// The shard of `key`, read-locked: its `get` lends the entry (counted as an access by the
    /// eviction policy). Whoever holds it must not call into the cache.
    #[inline(always)]
    pub(super) fn read_shard(&self, key: u64) -> RwLockReadGuard<'_, Shard> {
        // Only a panic while writing poisons the lock, and no write of ours panics half-way:
        // the shard is whole either way.
        self.shard(key)
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self, key: u64) -> RwLockWriteGuard<'_, Shard> {
        self.shard(key)
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    #[inline]
    pub(super) fn get(&self, key: u64) -> Option<Arc<Entry>> {
        self.read_shard(key).get(&key).cloned()
    }

    pub(super) fn insert(&self, key: u64, entry: Arc<Entry>) {
        let mut removed = Removed::default();
        self.write(key)
            .insert_with_lifecycle(key, Arc::clone(&entry), &mut removed);
        for (removed_key, removed_entry) in removed.iter() {
            // quick_cache reports the entry an insertion replaces as evicted too: that one is
            // not an eviction. One refused for its size (the inserted entry itself) is.
            if *removed_key != key || Arc::ptr_eq(removed_entry, &entry) {
                bump(&removed_entry.counters().evictions);
            }
        }
    }

    pub(super) fn remove_if(&self, key: u64, same: impl FnOnce(&Arc<Entry>) -> bool) -> bool {
        // Bound first: the entry is dropped (and counted out) after the lock is released.
        let removed = self.write(key).remove_if(&key, same);
        removed.is_some()
    }

    /// Removes the entries `expired` accepts, counting each (retain removes under the shard
    /// lock, so what the predicate rejects is exactly what goes).
    pub(super) fn remove_expired(&self, expired: impl Fn(&Entry) -> bool) {
        for shard in &self.shards {
            shard
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|_, entry| {
                    let gone = expired(entry);
                    if gone {
                        bump(&entry.counters().expirations);
                    }
                    !gone
                });
        }
    }

    /// quick_cache does its work inside each call: nothing is pending.
    pub(super) fn run_pending_tasks(&self) {}

    /// How many entries each shard holds.
    #[cfg(test)]
    pub(super) fn shard_lengths(&self) -> Vec<usize> {
        (self.shards.iter())
            .map(|shard| shard.read().map_or(0, |shard| shard.len()))
            .collect()
    }
}

/// One shard: quick_cache's defaults, sized for its share of the entries and the capacity.
fn new_shard(estimated_items: usize, weight_capacity: u64) -> Shard {
    let options = OptionsBuilder::new()
        .estimated_items_capacity(estimated_items)
        .weight_capacity(weight_capacity)
        .build();
    match options {
        Ok(options) => Cache::with_options(options, ByWeight, PrehashedKey, CountEvictions),
        Err(_) => Cache::with(
            estimated_items,
            weight_capacity,
            ByWeight,
            PrehashedKey,
            CountEvictions,
        ),
    }
}
