//! The leader's steps for a batch, each item as a single call's leader treats its key:
//! snapshot the tags, read the shared tier (one round trip for every item), run the body once
//! with the items left, store each returned item and each absent one, publish each.

use super::{AbsentItem, BatchMiss, Claimed};
use crate::engine::compute::Snapshot;
use crate::engine::miss::{Miss, MissKind};
use crate::engine::mode;
use crate::engine::remote::ReadThrough;
use crate::flight::{Leader, Published};
use crate::observe::CallOutcome;
use crate::stats::bump;
use crate::store::Stamps;
use crate::tier::RemoteRead;
use crate::value::Decision;
use std::any::Any;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A claimed item on its way through the computation.
struct Slot<V> {
    miss: Box<Miss<Option<V>>>,
    leader: Option<Leader>,
    own: bool,
    snapshot: Snapshot,
    /// The shared tier's generations to write the value under (when it is shared and the tier
    /// answered).
    generations: Option<crate::tier::WriteTicket>,
    /// Answered: stored and published.
    done: bool,
}

impl<V> Slot<V> {
    fn hash(&self) -> u128 {
        self.miss.hash
    }

    fn publish(&mut self, published: Published) {
        self.done = true;
        if let Some(leader) = self.leader.take() {
            leader.publish(published);
        }
    }
}

/// How long the body took, on the real clock (metrics) and on the cache's (what entries
/// record).
struct Timing {
    computed: Duration,
    compute_nanos: u64,
}

impl<R, K, V, C> BatchMiss<R, K, V, C> {
    /// Computes `claimed`: `Ok` once every item is stored and published (this call's own
    /// present items added to its answer), `Err` with the body's error.
    pub(super) async fn compute<B, F>(
        &mut self,
        claimed: Vec<Claimed<K, V>>,
        body: B,
    ) -> Result<(), R>
    where
        B: FnOnce(C) -> F,
        F: Future<Output = R>,
    {
        let mut work: Vec<(K, Slot<V>)> = claimed.into_iter().map(|c| self.slot(c)).collect();
        self.read_through_all(&mut work).await;
        if work.is_empty() {
            return Ok(());
        }
        work.sort_unstable_by_key(|(_, slot)| slot.hash());
        let (items, mut slots): (Vec<K>, Vec<Slot<V>>) = work.into_iter().unzip();
        let hashes: Vec<u128> = slots.iter().map(Slot::hash).collect();
        let started = (Instant::now(), self.runtime.now_nanos());
        let result = mode::computing_many(hashes, body((self.collect)(items))).await;
        let timing = Timing {
            computed: started.0.elapsed(),
            compute_nanos: self.runtime.now_nanos().saturating_sub(started.1),
        };
        let pairs = match (self.codec.split)(result) {
            Ok(pairs) => pairs,
            Err(result) => {
                self.publish_error(&mut slots, &result, &timing);
                return Err(result);
            }
        };
        let mut computed = Some(timing.computed);
        for (item, value) in pairs {
            // Items the body was not asked for are not this call's to store.
            let Some(hash) = (self.key_of)(&self.keys, &item) else {
                continue;
            };
            let Ok(at) = slots.binary_search_by_key(&hash, Slot::hash) else {
                continue;
            };
            let Some(slot) = slots.get_mut(at).filter(|slot| !slot.done) else {
                continue;
            };
            let result = Some(value);
            self.store(slot, &result, &timing, computed.take());
            if let (true, Some(value)) = (slot.own, result) {
                self.answered.push((item, value));
            }
        }
        let absent = Arc::new(Mutex::new(Box::new(AbsentItem) as Box<dyn Any + Send>));
        for slot in slots.iter_mut().filter(|slot| !slot.done) {
            if !self.store(slot, &None, &timing, computed.take()) {
                // Not cached (`cache_none = false`): its waiters take it as absent all the same.
                bump(&self.counters.not_cached);
                slot.publish(Published::Shared(Arc::clone(&absent)));
            }
        }
        Ok(())
    }

    /// The item's slot: its tags' generations read now, before anything else (an invalidation
    /// from here on makes its result stale on arrival instead of being lost).
    fn slot(&self, claimed: Claimed<K, V>) -> (K, Slot<V>) {
        let mut miss = claimed.miss;
        miss.weigh_values = self.weigh_values;
        let snapshot = miss.snapshot();
        let slot = Slot {
            miss,
            leader: claimed.leader,
            own: claimed.own,
            snapshot,
            generations: None,
            done: false,
        };
        (claimed.item, slot)
    }

    /// Reads every item from the shared tier in one round trip (when the function shares its
    /// values): an item found there is stored in memory, published and taken out of `work`.
    async fn read_through_all(&mut self, work: &mut Vec<(K, Slot<V>)>) {
        let Some(first) = work.first().map(|(_, slot)| &slot.miss) else {
            return;
        };
        let Some((tier, shared)) = first.shared() else {
            return;
        };
        let (entry_ttl, want_value) = (first.entry_ttl(), first.wants_remote_value());
        let names: Vec<_> = work
            .iter()
            .map(|(_, slot)| slot.miss.remote_tag_names())
            .collect();
        let reads: Vec<RemoteRead<'_>> = work
            .iter()
            .zip(&names)
            .map(|((_, slot), tags)| RemoteRead {
                key: slot.hash(),
                tags,
                entry_ttl,
                want_value,
            })
            .collect();
        let remotes = match tier.read_many(&reads).await {
            Ok(remotes) if remotes.len() == work.len() => remotes,
            // Redis down, slow or refusing: every item is computed, and stays in memory.
            _ => return,
        };
        drop(reads);
        drop(names);
        let mut left = Vec::with_capacity(work.len());
        for ((item, mut slot), remote) in work.drain(..).zip(remotes) {
            match slot
                .miss
                .accept_remote(tier, shared, Ok(remote), &mut slot.snapshot)
            {
                ReadThrough::Answered(found, entry) => {
                    slot.publish(Published::Value(entry));
                    if let (true, Some(value)) = (slot.own, found) {
                        self.answered.push((item, value));
                    }
                }
                ReadThrough::Compute { generations } => {
                    slot.generations = generations;
                    left.push((item, slot));
                }
            }
        }
        *work = left;
    }

    /// Stores what the body gave for one item (`None`: absent), and publishes it; `false` if
    /// nothing was stored (an absent item without `cache_none`), left to the caller to publish.
    fn store(
        &self,
        slot: &mut Slot<V>,
        result: &Option<V>,
        timing: &Timing,
        computed: Option<Duration>,
    ) -> bool {
        let miss = &slot.miss;
        let outcome = if self.kind == MissKind::Refresh {
            CallOutcome::Refresh
        } else {
            CallOutcome::Miss
        };
        miss.observe(outcome, computed);
        let decision = miss.weighed((miss.codec.store)(result, self.site.config.cache_none));
        let Decision::Store {
            value,
            size,
            stored,
        } = decision
        else {
            return false;
        };
        if slot.leader.as_ref().is_some_and(Leader::is_doomed) {
            // `forget` came while it ran: returned, not stored.
            slot.publish(Published::Nothing);
            return true;
        }
        if let Some(generations) = slot.generations.take() {
            miss.write_remote(value.value(), generations);
        }
        let ttl = miss.capped_ttl(stored);
        let stamps = Stamps {
            tags: std::mem::take(&mut slot.snapshot.stamps.tags),
            ..slot.snapshot.stamps
        };
        let entry = miss.insert(value, size, stamps, ttl, timing.compute_nanos);
        slot.publish(Published::Value(entry));
        true
    }

    /// The body failed: nothing is stored; each item's waiters get a clone of the error when
    /// the return type can be cloned, else look again (and one of them runs its own body).
    fn publish_error(&self, slots: &mut [Slot<V>], result: &R, timing: &Timing) {
        bump(&self.counters.errors);
        if let Some(slot) = slots.first() {
            slot.miss.observe(CallOutcome::Error, Some(timing.computed));
        }
        let shared = self
            .sharer
            .as_ref()
            .map(|sharer| Arc::new(Mutex::new((sharer.pack)(result))));
        for slot in slots {
            let published = shared.as_ref().map_or(Published::Nothing, |shared| {
                Published::Shared(Arc::clone(shared))
            });
            slot.publish(published);
        }
    }
}
