//! Claiming a batch's missing items: each item's flight is led, or waited for when another
//! call is loading it. A call never holds a claim it waits behind out of order, so overlapping
//! batches cannot wait for each other (see the parent module).

use super::{AbsentItem, BatchMiss, Claimed, Found, Missing};
use crate::engine::lookup::{Freshness, drop_unfresh, freshness};
use crate::engine::miss::MissKind;
use crate::engine::mode;
use crate::flight::{Flight, Joined, Published};
use crate::stats::bump;
use crate::store::Entry;
use std::sync::{Arc, PoisonError};

/// Why a batch stopped claiming.
pub(super) enum Stop<R, K, V> {
    /// Another call's body failed for one of this call's items: its error is this result.
    Failed(R),
    /// An item is being computed by this very call's caller, up the stack: waiting for it would
    /// wait forever. Every item not answered yet runs uncached.
    Reentrant(Vec<Missing<K, V>>),
}

/// What became of one item.
enum Claim<R, K, V> {
    Led(Claimed<K, V>),
    Answered,
    Failed(R),
    Reentrant(Missing<K, V>),
}

/// An item handed to a window another call drives: its flight is waited for.
pub(super) struct Waiting<K, V> {
    /// The item, with a copy of its miss (to claim it again if the window's driver fails).
    pub(super) missing: Missing<K, V>,
    pub(super) flight: Arc<Flight>,
}

impl<R, K, V, C> BatchMiss<R, K, V, C> {
    /// Claims every missing item this call is to compute; those another call loads meanwhile
    /// are waited for and answered. In key order (see the parent module); a refresh claims all.
    pub(super) async fn claim_all(
        &mut self,
        mut missing: Vec<Missing<K, V>>,
    ) -> Result<Vec<Claimed<K, V>>, Stop<R, K, V>> {
        if self.kind == MissKind::Refresh {
            // No single-flight for a refresh, but each item is watched: a `forget` of it while
            // the body runs keeps the older result out of the store.
            let flights = &self.runtime.flights;
            let claimed = missing.into_iter().map(|m| Claimed {
                leader: Some(flights.watch(m.hash())),
                item: m.item,
                miss: m.miss,
                own: true,
            });
            return Ok(claimed.collect());
        }
        missing.sort_unstable_by_key(Missing::hash);
        let mut claimed = Vec::with_capacity(missing.len());
        let mut rest = missing.into_iter();
        while let Some(item) = rest.next() {
            match self.claim(item).await {
                Claim::Led(item) => claimed.push(item),
                Claim::Answered => {}
                Claim::Failed(result) => return Err(Stop::Failed(result)),
                Claim::Reentrant(item) => {
                    // The claims taken so far are released (their waiters look again).
                    let mut unanswered: Vec<Missing<K, V>> = claimed
                        .into_iter()
                        .map(|c: Claimed<K, V>| Missing {
                            item: c.item,
                            miss: c.miss,
                        })
                        .collect();
                    unanswered.push(item);
                    unanswered.extend(rest);
                    return Err(Stop::Reentrant(unanswered));
                }
            }
        }
        Ok(claimed)
    }

    /// Leads the item's flight, or waits for its leader; until one of them answers it.
    async fn claim(&mut self, missing: Missing<K, V>) -> Claim<R, K, V> {
        let hash = missing.hash();
        loop {
            match self.runtime.flights.join_or_lead(hash) {
                Joined::Lead(leader) => {
                    // Between the lookup and now, another leader may have stored it.
                    if let Some((entry, found)) = self.reread(hash) {
                        leader.publish(Published::Value(entry));
                        self.answer_coalesced(missing, found);
                        return Claim::Answered;
                    }
                    return Claim::Led(Claimed {
                        item: missing.item,
                        miss: missing.miss,
                        leader: Some(leader),
                        own: true,
                    });
                }
                Joined::Wait(flight) => {
                    if mode::is_computing(hash) {
                        bump(&self.counters.reentrant);
                        return Claim::Reentrant(missing);
                    }
                    match self.found(flight.outcome().await) {
                        Found::Failed(result) => return Claim::Failed(result),
                        Found::Retry => {}
                        found => {
                            self.answer_coalesced(missing, found);
                            return Claim::Answered;
                        }
                    }
                    if let Some((_, found)) = self.reread(hash) {
                        self.answer_coalesced(missing, found);
                        return Claim::Answered;
                    }
                }
            }
        }
    }

    /// Waits for the items this call handed to another call's window; those its driver did
    /// not answer (it failed without an error to share, or went away) are returned, to claim
    /// again. `Err`: the driver's body failed, and this is its error.
    pub(super) async fn wait_as_passenger(
        &mut self,
        waiting: Vec<Waiting<K, V>>,
    ) -> Result<Vec<Missing<K, V>>, R> {
        let mut retry = Vec::new();
        for Waiting { missing, flight } in waiting {
            let hash = missing.hash();
            match self.found(flight.outcome().await) {
                Found::Failed(result) => return Err(result),
                Found::Retry => match self.reread(hash) {
                    Some((_, found)) => self.answer_coalesced(missing, found),
                    None => retry.push(missing),
                },
                found => self.answer_coalesced(missing, found),
            }
        }
        Ok(retry)
    }

    /// A fresh entry of `hash` stored meanwhile, and what it holds.
    fn reread(&self, hash: u128) -> Option<(Arc<Entry>, Found<V, R>)> {
        let entry = self.runtime.store.get(hash)?;
        let now = self.runtime.now_nanos();
        if freshness(self.site, &entry, now) != Freshness::Fresh {
            drop_unfresh(
                self.function,
                self.runtime,
                self.counters,
                hash,
                &entry,
                now,
            );
            return None;
        }
        let found = match self.codec.item.load(&entry)? {
            Some(value) => Found::Present(value),
            None => Found::Absent,
        };
        Some((entry, found))
    }

    /// What a leader published, as this call can use it.
    pub(super) fn found(&self, published: Published) -> Found<V, R> {
        match published {
            Published::Value(entry) if entry.is_fresh(self.runtime.now_nanos()) => {
                match self.codec.item.load(&entry) {
                    Some(Some(value)) => Found::Present(value),
                    Some(None) => Found::Absent,
                    None => Found::Retry,
                }
            }
            Published::Shared(shared) => {
                let shared = shared.lock().unwrap_or_else(PoisonError::into_inner);
                if shared.is::<AbsentItem>() {
                    return Found::Absent;
                }
                let unpacked = self.sharer.as_ref().and_then(|s| (s.unpack)(&**shared));
                unpacked.map_or(Found::Retry, Found::Failed)
            }
            _ => Found::Retry,
        }
    }

    /// An item answered by another call's computation.
    fn answer_coalesced(&mut self, missing: Missing<K, V>, found: Found<V, R>) {
        missing.miss.count_coalesced();
        if let Found::Present(value) = found {
            self.answered.push((missing.item, value));
        }
    }
}
