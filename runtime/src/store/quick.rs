//! The quick_cache engine: sharded, S3-FIFO-like with ghost keys, weighed in bytes, no
//! background work; evictions are reported through its `Lifecycle`.

use super::{Entry, PrehashedKey};
use crate::stats::bump;
use quick_cache::sync::Cache;
use quick_cache::{Lifecycle, OptionsBuilder, Weighter};
use std::sync::Arc;

/// Each shard holds at least this much: quick_cache refuses an entry heavier than its shard's
/// share of the capacity, so the shard size is the largest value the cache can hold.
const MIN_SHARD_BYTES: u64 = 4 << 20;

/// How many shards: as many as quick_cache would take for this machine (4 per core), fewer when
/// the capacity is small, so that a shard still holds a value of [`MIN_SHARD_BYTES`]. A power of
/// two (quick_cache would round up otherwise, halving each shard).
fn shards(max_capacity_bytes: u64) -> usize {
    let by_cores = std::thread::available_parallelism().map_or(4, |n| n.get() * 4);
    let by_size = usize::try_from(max_capacity_bytes / MIN_SHARD_BYTES).unwrap_or(usize::MAX);
    let wanted = by_cores.min(by_size).max(1);
    1 << wanted.ilog2()
}

/// quick_cache's own bookkeeping per entry (the key, the slot, the queue links: about 51 B
/// measured, BENCHMARKS.md), plus the `Arc`'s two counts.
const OVERHEAD: usize = 64;

pub(crate) struct QuickStore {
    cache: Cache<u64, Arc<Entry>, ByWeight, PrehashedKey, CountEvictions>,
}

#[derive(Clone)]
struct ByWeight;

impl Weighter<u64, Arc<Entry>> for ByWeight {
    fn weight(&self, _: &u64, entry: &Arc<Entry>) -> u64 {
        u64::from(entry.weight())
    }
}

#[derive(Clone)]
struct CountEvictions;

impl Lifecycle<u64, Arc<Entry>> for CountEvictions {
    /// What left the cache during one insertion: counted by [`QuickStore::insert`], dropped
    /// (and counted out) after the shard lock is released.
    type RequestState = Vec<(u64, Arc<Entry>)>;

    fn on_evict(&self, removed: &mut Self::RequestState, key: u64, entry: Arc<Entry>) {
        removed.push((key, entry));
    }
}

impl QuickStore {
    pub(super) fn new(max_capacity_bytes: u64) -> Self {
        // An estimate only (it sizes the tables): entries of small values weigh ~200 B.
        let estimated_items = usize::try_from(max_capacity_bytes / 256)
            .unwrap_or(usize::MAX)
            .clamp(64, 1 << 24);
        let options = OptionsBuilder::new()
            .shards(shards(max_capacity_bytes))
            .estimated_items_capacity(estimated_items)
            .weight_capacity(max_capacity_bytes)
            .build();
        let cache = match options {
            Ok(options) => Cache::with_options(options, ByWeight, PrehashedKey, CountEvictions),
            Err(_) => Cache::with(
                estimated_items,
                max_capacity_bytes,
                ByWeight,
                PrehashedKey,
                CountEvictions,
            ),
        };
        QuickStore { cache }
    }

    pub(super) fn overhead(&self) -> usize {
        OVERHEAD
    }

    #[inline]
    pub(super) fn get(&self, key: u64) -> Option<Arc<Entry>> {
        self.cache.get(&key)
    }

    pub(super) fn insert(&self, key: u64, entry: Arc<Entry>) {
        let mut removed = Vec::new();
        self.cache
            .insert_with_lifecycle(key, Arc::clone(&entry), &mut removed);
        for (removed_key, removed_entry) in &removed {
            // quick_cache reports the entry an insertion replaces as evicted too: that one is
            // not an eviction. One refused for its size (the inserted entry itself) is.
            if *removed_key != key || Arc::ptr_eq(removed_entry, &entry) {
                bump(&removed_entry.counters().evictions);
            }
        }
    }

    pub(super) fn remove_if(&self, key: u64, same: impl FnOnce(&Arc<Entry>) -> bool) -> bool {
        self.cache.remove_if(&key, same).is_some()
    }

    /// Removes the entries `expired` accepts, counting each (retain removes under the shard
    /// lock, so what the predicate rejects is exactly what goes).
    pub(super) fn remove_expired(&self, expired: impl Fn(&Entry) -> bool) {
        self.cache.retain(|_, entry| {
            let gone = expired(entry);
            if gone {
                bump(&entry.counters().expirations);
            }
            !gone
        });
    }

    /// quick_cache does its work inside each call: nothing is pending.
    pub(super) fn run_pending_tasks(&self) {}
}
