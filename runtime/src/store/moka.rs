//! The moka engine (feature `moka`): `moka::sync::Cache`, TinyLFU admission, weighed in bytes;
//! evictions are reported by its eviction listener, applied by `run_pending_tasks`.

use super::{Entry, PrehashedKey};
use crate::stats::bump;
use moka::notification::RemovalCause;
use moka::sync::Cache;
use std::sync::Arc;

/// moka's own bookkeeping per entry (DESIGN.md §5: about 280–320 B measured).
const OVERHEAD: usize = 320;

pub(crate) struct MokaStore {
    cache: Cache<u64, Arc<Entry>, PrehashedKey>,
    max_capacity_bytes: u64,
}

impl MokaStore {
    pub(super) fn new(max_capacity_bytes: u64) -> Self {
        MokaStore {
            cache: Cache::builder()
                .max_capacity(max_capacity_bytes)
                .weigher(|_, entry: &Arc<Entry>| entry.weight())
                .eviction_listener(|_, entry: Arc<Entry>, cause| {
                    // Expiry is ours (the sweep), counted where it is detected.
                    if cause == RemovalCause::Size {
                        bump(&entry.counters().evictions);
                    }
                    // moka keeps removed entries in its queues until its housekeeping runs:
                    // count it out now, not when the last of those copies goes.
                    entry.meta.count_out();
                })
                .build_with_hasher(PrehashedKey),
            max_capacity_bytes,
        }
    }

    pub(super) fn overhead(&self) -> usize {
        OVERHEAD
    }

    #[inline]
    pub(super) fn get(&self, key: u64) -> Option<Arc<Entry>> {
        self.cache.get(&key)
    }

    /// Stores `entry` under `key`; one heavier than the whole capacity is refused (counted as
    /// an eviction) and takes the key's previous entry with it, as quick_cache refuses one
    /// heavier than its shard: moka would admit it and serve it until its housekeeping evicts
    /// it.
    pub(super) fn insert(&self, key: u64, entry: Arc<Entry>) {
        if u64::from(entry.weight()) > self.max_capacity_bytes {
            self.cache.invalidate(&key);
            bump(&entry.counters().evictions);
            entry.meta.count_out();
            return;
        }
        self.cache.insert(key, entry);
    }

    pub(super) fn remove_if(&self, key: u64, same: impl FnOnce(&Arc<Entry>) -> bool) -> bool {
        use moka::ops::compute::{CompResult, Op};
        let mut same = Some(same);
        let result = self.cache.entry(key).and_compute_with(|current| {
            let matches = current.is_some_and(|c| same.take().is_some_and(|f| f(c.value())));
            if matches { Op::Remove } else { Op::Nop }
        });
        matches!(result, CompResult::Removed(_))
    }

    /// Removes the entries `expired` accepts, counting those actually removed (one replaced
    /// meanwhile stays, uncounted).
    pub(super) fn remove_expired(&self, expired: impl Fn(&Entry) -> bool) {
        let gone: Vec<(u64, Arc<Entry>)> = self
            .cache
            .iter()
            .filter(|(_, entry)| expired(entry))
            .map(|(key, entry)| (*key, entry))
            .collect();
        for (key, entry) in gone {
            if self.remove_if(key, |held| Arc::ptr_eq(held, &entry)) {
                bump(&entry.counters().expirations);
            }
        }
    }

    pub(super) fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks();
    }
}
