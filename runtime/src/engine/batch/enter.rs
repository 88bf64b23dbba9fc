//! The first step of a batch call: its calling mode, then each distinct item looked up in memory
//! with the one freshness rule (as a single call's lookup), without waiting for anything.

use super::{BatchEnter, BatchMiss, Missing};
use crate::batching::{BatchCodec, BatchItems};
use crate::engine::invalidation::invalidate_names;
use crate::engine::lookup::{Freshness, drop_unfresh, freshness, remove};
use crate::engine::miss::{Miss, MissKind};
use crate::engine::mode::{self, Mode};
use crate::function::FunctionState;
use crate::key::{BatchKeys, Key};
use crate::observe::{self, CallOutcome, Tier};
use crate::runtime::{Runtime, runtime};
use crate::site::Site;
use crate::stats::bump;
use crate::store::PrehashedKey;
use std::collections::HashSet;
use std::sync::atomic::AtomicU64;

/// Looks every item of a batch call up: the whole result when each is cached, else what the
/// call needs to compute the others ([`BatchMiss::run`]).
pub async fn enter_batch<R, K, V, C>(
    site: &'static Site,
    keys: BatchKeys,
    codec: BatchCodec<R, K, V>,
    items: BatchItems<K, C>,
) -> BatchEnter<R, K, V, C> {
    let runtime = runtime();
    let function = keys.function;
    let counters = runtime.counters(function);
    let kind = match mode::current() {
        Mode::Normal | Mode::Done(_) => MissKind::Compute,
        Mode::Bypass => MissKind::Uncached,
        Mode::Refresh => {
            mode::consume();
            MissKind::Refresh
        }
        // `#[cache_put]` names one call's entry; a batch call holds many: nothing is prepared,
        // and the body does not run.
        Mode::Put => {
            mode::consume();
            mode::finish(false);
            return std::future::pending().await;
        }
        forgetting @ (Mode::Forget | Mode::ForgetAll) => {
            let hashes = items
                .items
                .iter()
                .filter_map(|item| (items.key_of)(&keys, item));
            let hashes: Vec<u128> = hashes.collect();
            let shared = codec.item.shared_enabled();
            let removed = forget(runtime, keys.function, hashes, shared, forgetting).await;
            mode::finish(removed);
            // The calling mode's wrapper ends the call now: it never produces a value.
            return std::future::pending().await;
        }
    };
    let mut batch = Box::new(BatchMiss {
        site,
        function,
        counters,
        runtime,
        kind,
        codec,
        key_of: items.key_of,
        collect: items.collect,
        answered: Vec::new(),
        missing: Vec::new(),
        sharer: None,
        merge: None,
        weigh_values: None,
        keys,
    });
    let distinct = match distinct(&batch.keys, items) {
        Ok(distinct) => distinct,
        // An item failed to encode: the call runs uncached with every item, as a single call
        // would (no key to tell duplicates by, either).
        Err(all) => {
            let all = all.into_iter().map(|item| (item, 0)).collect();
            return uncached(batch, all, &counters.key_errors);
        }
    };
    match kind {
        MissKind::Uncached => return uncached(batch, distinct, &counters.bypassed),
        _ if batch.keys.skip => return uncached(batch, distinct, &counters.bypassed),
        _ if batch.keys.failed => return uncached(batch, distinct, &counters.key_errors),
        MissKind::Refresh => {
            for (item, hash) in distinct {
                bump(&counters.refreshed);
                batch.missing.push(batch.missing_item(item, hash));
            }
        }
        _ => batch.look_up(distinct),
    }
    if batch.missing.is_empty() {
        // A hit never waits: spend a unit of the task's budget (a whole one: a batch is the
        // work of many single hits, which spend one per 16 calls).
        std::future::poll_fn(|cx| tokio::task::coop::poll_proceed(cx).map(|r| r.made_progress()))
            .await;
        return BatchEnter::Hit((batch.codec.wrap)(std::mem::take(&mut batch.answered)));
    }
    BatchEnter::Miss(batch)
}

/// The items once each, with their keys; all of them, as given, if one fails to encode.
fn distinct<K, C>(keys: &BatchKeys, items: BatchItems<K, C>) -> Result<Vec<(K, u128)>, Vec<K>> {
    let hashes: Option<Vec<u128>> = items
        .items
        .iter()
        .map(|item| (items.key_of)(keys, item))
        .collect();
    let Some(hashes) = hashes else {
        return Err(items.items);
    };
    let mut seen = HashSet::with_capacity_and_hasher(hashes.len(), PrehashedKey);
    let pairs = items.items.into_iter().zip(hashes);
    Ok(pairs.filter(|(_, hash)| seen.insert(*hash)).collect())
}

/// The call runs uncached with every item, each counted in `counter`.
fn uncached<R, K, V, C>(
    mut batch: Box<BatchMiss<R, K, V, C>>,
    items: Vec<(K, u128)>,
    counter: &AtomicU64,
) -> BatchEnter<R, K, V, C> {
    batch.kind = MissKind::Uncached;
    for (item, hash) in items {
        bump(counter);
        observe::call(
            batch.function,
            hash,
            CallOutcome::Bypass,
            Tier::Memory,
            None,
        );
        batch.missing.push(batch.missing_item(item, hash));
    }
    BatchEnter::Miss(batch)
}

impl<R, K, V, C> BatchMiss<R, K, V, C> {
    /// Each item in memory: a fresh entry answers it (a cached absence too), anything else is
    /// a miss of its own.
    fn look_up(&mut self, items: Vec<(K, u128)>) {
        let (runtime, counters, site, codec) =
            (self.runtime, self.counters, self.site, self.codec.item);
        let now = runtime.now_nanos();
        for (item, hash) in items {
            // A fresh entry is read where the engine lends it, as a single call's hit is.
            let read = runtime.store.read(hash, |entry| {
                (freshness(site, entry, now) == Freshness::Fresh).then(|| codec.load(entry))?
            });
            match read {
                Some(found) => {
                    counters.hits.add_one();
                    observe::call(self.function, hash, CallOutcome::Hit, Tier::Memory, None);
                    if let Some(value) = found {
                        self.answered.push((item, value));
                    }
                    continue;
                }
                // None, not fresh (dropped on the way), or of another type (a 128-bit
                // collision).
                None => {
                    if let Some(entry) = runtime.store.get(hash)
                        && freshness(site, &entry, now) != Freshness::Fresh
                    {
                        drop_unfresh(self.function, runtime, counters, hash, &entry, now);
                    }
                }
            }
            bump(&counters.misses);
            self.missing.push(self.missing_item(item, hash));
        }
    }

    /// An item to compute, with the miss a call of that item alone would have.
    pub(super) fn missing_item(&self, item: K, hash: u128) -> Missing<K, V> {
        let key = Key {
            function: self.function,
            hash: Some(hash),
            skip: false,
        };
        let miss = Miss::new(
            self.site,
            &key,
            self.counters,
            self.kind,
            self.codec.item,
            None,
        );
        Missing {
            item,
            miss: Box::new(miss),
        }
    }
}

/// `forget(call)`: removes each item's entry; `forget_all(call)`: every entry of the function.
async fn forget(
    runtime: &'static Runtime,
    function: &'static FunctionState,
    hashes: Vec<u128>,
    shared: bool,
    mode: Mode,
) -> bool {
    if mode == Mode::ForgetAll {
        // Nothing to report a shared-store failure to; the in-memory invalidation happened.
        let _ = invalidate_names(runtime, &[&function.tag]).await;
        return true;
    }
    let mut removed = false;
    for hash in hashes {
        removed |= remove(runtime, hash, shared).await;
    }
    removed
}
