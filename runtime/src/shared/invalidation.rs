//! Invalidation across instances, and its replay after an outage.
//!
//! An invalidation is queued ([`Pending`](super::pending::Pending)), then applied by a round on
//! the tier's runtime: one script bumps the tags in Redis and publishes them, and the round
//! waits until as many instances as received the message have acknowledged it. A round Redis
//! does not apply leaves its invalidations queued (counted in `invalidations_failed`, reported
//! as an incident: `#[cache_invalidate]` drops the caller's error); they are replayed, oldest
//! first, by the next round: started by the next invalidation, by any read, write or delete
//! (none of which touches Redis while an invalidation is pending), or every
//! [`REPLAY_INTERVAL`] in the background.

use super::pending::{Round, Settled};
use super::protocol::{Message, encode_message};
use super::{SharedTier, shared_incident};
use crate::tier::{BreakerState, TierError};
use std::sync::atomic::Ordering::{AcqRel, Relaxed, Release};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

/// How often pending invalidations are retried when nothing else asks.
const REPLAY_INTERVAL: Duration = Duration::from_millis(100);

impl SharedTier {
    /// Bumps `tags` in Redis (after every invalidation still pending), tells every instance,
    /// and waits until each has applied it, within the operation budget.
    pub(crate) async fn invalidate(&self, tags: &[&str]) -> Result<(), TierError> {
        if tags.is_empty() {
            return Ok(());
        }
        // Its own message forgets them too; until it arrives, nothing here reads them from
        // the mirror.
        self.mirror.forget(tags);
        let (reply, answer) = oneshot::channel();
        // Queued before anything is awaited: a caller dropped from here on leaves it to the
        // rounds, which do not depend on it.
        if self
            .pending
            .push(tags.iter().map(|t| (*t).to_string()).collect(), reply)
        {
            shared_incident(
                "invalidations_collapsed",
                "too many pending: everything shared is invalidated instead",
            );
        }
        self.start_flush();
        let budget = self.config.operation_timeout;
        // Timed on the tier's runtime: the caller's may have no timer, or be none at all.
        let waited = self
            .runtime
            .spawn(async move { tokio::time::timeout(budget, answer).await })
            .await;
        match waited {
            Ok(Ok(Ok(outcome))) => outcome,
            Ok(Err(_elapsed)) => Err(TierError::TimedOut),
            // The reply was dropped unanswered, or the tier's runtime is shutting down.
            Ok(Ok(Err(_))) | Err(_) => Err(TierError::Unavailable),
        }
    }

    /// Replays pending invalidations first, if any: nothing is read from or written to Redis
    /// while one waits. `Err` if they could not all be applied within `budget`.
    pub(super) async fn replayed_within(&self, budget: Duration) -> Result<(), TierError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let Some(tier) = self.me.upgrade() else {
            return Err(TierError::Unavailable);
        };
        let waited = self
            .runtime
            .spawn(async move { tier.wait_replayed(budget).await })
            .await;
        waited.unwrap_or(Err(TierError::Unavailable))
    }

    /// On the tier's runtime: runs rounds until nothing is pending, a round fails, or `budget`
    /// runs out.
    pub(super) async fn wait_replayed(&self, budget: Duration) -> Result<(), TierError> {
        let deadline = tokio::time::Instant::now() + budget;
        let mut flushed = self.flushed.subscribe();
        loop {
            if self.pending.is_empty() {
                return Ok(());
            }
            self.start_flush();
            match tokio::time::timeout_at(deadline, flushed.changed()).await {
                Err(_elapsed) => return Err(TierError::TimedOut),
                Ok(Err(_closed)) => return Err(TierError::Unavailable),
                Ok(Ok(())) if !*flushed.borrow() && !self.pending.is_empty() => {
                    return Err(TierError::Unavailable);
                }
                Ok(Ok(())) => {}
            }
        }
    }

    /// Starts a task running rounds, unless one is running.
    fn start_flush(&self) {
        if self.flushing.swap(true, AcqRel) {
            return;
        }
        match self.me.upgrade() {
            Some(tier) => {
                self.runtime.spawn(tier.flush());
            }
            None => self.flushing.store(false, Release),
        }
    }

    async fn flush(self: Arc<Self>) {
        loop {
            let ok = self.run_rounds().await;
            self.flushing.store(false, Release);
            // Tells every waiter a flush ended, and whether it left nothing pending.
            self.flushed.send_replace(ok);
            // An invalidation queued after the last round looked: take it too, unless another
            // task already does.
            if !ok || self.pending.is_empty() || self.flushing.swap(true, AcqRel) {
                return;
            }
        }
    }

    /// Rounds until nothing is pending (`true`) or one fails (`false`).
    async fn run_rounds(&self) -> bool {
        while let Some(round) = self.pending.next_round() {
            if !self.run_round(&round).await {
                return false;
            }
        }
        true
    }

    async fn run_round(&self, round: &Round) -> bool {
        match self.bump_and_publish(&round.tags).await {
            Ok(acknowledged) => {
                let settled = self.pending.applied(round);
                self.counters
                    .invalidations_replayed
                    .fetch_add(settled.changed, Relaxed);
                let outcome = if acknowledged {
                    Ok(())
                } else {
                    // Redis has it, so it is not replayed; some instance did not confirm in time.
                    self.count_unconfirmed(settled.items, "invalidation_unacknowledged");
                    Err(TierError::TimedOut)
                };
                answer(settled, &outcome);
                true
            }
            Err(error) => {
                let settled = self.pending.failed(round);
                self.count_unconfirmed(settled.changed, "invalidation_pending");
                answer(settled, &Err(error));
                false
            }
        }
    }

    fn count_unconfirmed(&self, invalidations: u64, incident: &'static str) {
        if invalidations > 0 {
            self.counters
                .invalidations_failed
                .fetch_add(invalidations, Relaxed);
            shared_incident(
                incident,
                "an invalidation was not confirmed by the shared store",
            );
        }
    }

    /// One script bumping `tags` and publishing them; then waits (within the budget) for as
    /// many acknowledgements as instances received the message. `Ok(false)`: Redis applied it,
    /// but not every instance confirmed in time.
    async fn bump_and_publish(&self, tags: &[String]) -> Result<bool, TierError> {
        let started = Instant::now();
        let id = self.next_message.fetch_add(1, Relaxed);
        let (acked, mut acks) = watch::channel(0u64);
        self.acks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, acked);
        let message = Message {
            origin: self.instance,
            id,
            tags: tags.to_vec(),
        };
        let published: Result<u64, TierError> = if self.is_cluster() {
            self.cluster_bump_and_publish(tags, encode_message(&message))
                .await
        } else {
            let keys = tags.iter().map(|tag| self.tag_key(tag)).collect();
            let args = vec![self.channel("inv").into_bytes(), encode_message(&message)];
            self.eval(&self.invalidate_script, keys, args).await
        };
        let outcome = match published {
            Err(e) => Err(e),
            Ok(receivers) => {
                let budget = self
                    .config
                    .operation_timeout
                    .saturating_sub(started.elapsed());
                let all = acks.wait_for(|n| *n >= receivers);
                Ok(matches!(tokio::time::timeout(budget, all).await, Ok(Ok(_))))
            }
        };
        self.acks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        outcome
    }

    /// Retries pending invalidations every [`REPLAY_INTERVAL`] while the breaker lets them
    /// through, so that they reach the other instances even if this one stays idle.
    pub(super) async fn replay_in_background(self: Arc<Self>) {
        loop {
            tokio::time::sleep(REPLAY_INTERVAL).await;
            if !self.pending.is_empty() && self.breaker.state() != BreakerState::Open {
                self.start_flush();
            }
        }
    }
}

fn answer(settled: Settled, outcome: &Result<(), TierError>) {
    for reply in settled.replies {
        // A caller that stopped waiting has nothing to learn.
        let _ = reply.send(outcome.clone());
    }
}
