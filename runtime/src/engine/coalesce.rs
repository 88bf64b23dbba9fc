//! The single-flight protocol: one caller per key computes (the leader), the others wait for
//! what it publishes, look again, or take the previous value while it is recomputed.

use super::lookup::read;
use super::miss::{Miss, MissKind};
use super::mode;
use crate::flight::{Joined, Leader, Published};
use crate::stats::bump;
use std::future::Future;
use std::sync::PoisonError;

impl<R> Miss<R> {
    /// [`Miss::run`].
    pub(super) async fn run_single_flight<F: Future<Output = R>>(self: Box<Self>, body: F) -> R {
        match self.kind {
            MissKind::Uncached => return body.await,
            // Not single-flight (a refresh recomputes whatever runs), but watched: a put or a
            // forget of the key meanwhile keeps its result out of the store.
            MissKind::Refresh => {
                let watched = self.runtime.flights.watch(self.hash);
                return self.compute(Some(watched), body).await;
            }
            MissKind::Put => return self.prepare_put().await,
            MissKind::End => return self.end().await,
            MissKind::Compute => {}
            // `early_refresh` on a function without `stale_while_revalidate`: this caller
            // recomputes ahead of the deadline; callers meanwhile keep the current value.
            MissKind::Revalidate => match self.runtime.flights.join_or_lead(self.hash) {
                Joined::Lead(leader) => {
                    self.count_recomputed_by_caller();
                    return self.compute(Some(leader), body).await;
                }
                Joined::Wait(_) => {
                    if let Some(previous) = self.previous() {
                        self.count_served_previous();
                        return previous;
                    }
                }
            },
        }
        match self.lead_or_wait().await {
            Ok(Some(leader)) => self.compute(Some(leader), body).await,
            // Re-entrant: the leader of this key is this very call's caller.
            Ok(None) => body.await,
            Err(result) => result,
        }
    }

    /// Becomes the key's leader (`Ok(Some)`), finds it computed by its own caller up the stack
    /// (`Ok(None)`: run uncached), or gets another leader's result (`Err`).
    async fn lead_or_wait(&self) -> Result<Option<Leader>, R> {
        loop {
            match self.runtime.flights.join_or_lead(self.hash) {
                Joined::Lead(leader) => {
                    // Between this call's lookup and now, another leader may have finished.
                    return match self.reread().await {
                        Some(hit) => Err(hit),
                        None => Ok(Some(leader)),
                    };
                }
                Joined::Wait(flight) => {
                    if mode::is_computing(self.hash) {
                        bump(&self.counters.reentrant);
                        return Ok(None);
                    }
                    if let Some(result) = self.take(flight.outcome().await) {
                        self.count_coalesced();
                        return Err(result);
                    }
                    // The leader failed, panicked, was cancelled, or computed from data that is
                    // stale by now: look again, then lead or wait for the next leader.
                    if let Some(hit) = self.reread().await {
                        return Err(hit);
                    }
                }
            }
        }
    }

    /// The entry another caller stored meanwhile, counted as coalesced.
    async fn reread(&self) -> Option<R> {
        let hit = read(
            self.runtime,
            self.site,
            self.function,
            self.counters,
            self.hash,
            self.codec,
        )
        .await?;
        self.count_coalesced();
        Some(hit)
    }

    /// [`Miss::run_or_revalidate`].
    pub(super) async fn revalidate_in_background<F>(self: Box<Self>, body: F) -> R
    where
        F: Future<Output = R> + Send + 'static,
        R: Send + 'static,
    {
        if self.kind != MissKind::Revalidate {
            return self.run_single_flight(body).await;
        }
        let runtime = self.runtime;
        let (Some(previous), Ok(handle)) = (self.previous(), tokio::runtime::Handle::try_current())
        else {
            return self.run_single_flight(body).await;
        };
        self.count_served_previous();
        if let Joined::Lead(leader) = runtime.flights.join_or_lead(self.hash) {
            bump(&self.counters.revalidations);
            if self.is_early() {
                bump(&self.counters.refreshed_early);
            }
            let refresh = crate::runtime::within(runtime, async move {
                let _ = self.compute(Some(leader), body).await;
            });
            drop(handle.spawn(refresh));
        }
        previous
    }

    /// The result a leader published, if this caller can use it.
    fn take(&self, published: Published) -> Option<R> {
        match published {
            Published::Value(entry) if entry.is_fresh(self.runtime.now_nanos()) => {
                self.codec.load(&entry)
            }
            Published::Shared(result) => {
                let sharer = self.sharer.as_ref()?;
                let result = result.lock().unwrap_or_else(PoisonError::into_inner);
                (sharer.unpack)(&**result)
            }
            Published::Stale(entry) => {
                let loaded = self.codec.load(&entry);
                if loaded.is_some() {
                    bump(&self.counters.stale_served);
                }
                loaded
            }
            Published::Value(_) | Published::Pending | Published::Nothing => None,
        }
    }
}
