//! The leader's computation, in named steps: snapshot the tags, try the shared tier, run the
//! body, decide what to keep, store it, publish it to the waiters.

use super::miss::{Miss, MissKind};
use super::mode;
use super::remote::ReadThrough;
use crate::flight::{Leader, Published};
use crate::observe::CallOutcome;
use crate::policy::ResultTags;
use crate::stats::bump;
use crate::store::{Entry, NewEntry, OwnStamps, Pending, Stamps};
use crate::tags::TagCell;
use crate::value::{Decision, Stored};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The generations an entry is stored under, read before the body runs.
pub(super) struct Snapshot {
    pub(super) stamps: Stamps,
    /// `result_tags`: where the invalidation count stood, to tell afterwards whether one of the
    /// tags the result names was invalidated while the body ran.
    sequence: Option<u64>,
}

/// The body's result and how long it took.
struct Ran<R> {
    result: R,
    /// On the real clock, for metrics.
    computed: Duration,
    /// On the cache's clock, which tests move by hand: what `early_refresh` works from.
    compute_nanos: u64,
}

impl<R> Miss<R> {
    pub(super) async fn compute<F: Future<Output = R>>(
        mut self: Box<Self>,
        leader: Option<Leader>,
        body: F,
    ) -> R {
        let mut snapshot = self.snapshot();
        let generations = match self.read_through(&mut snapshot).await {
            ReadThrough::Answered(result, entry) => {
                if let Some(leader) = leader {
                    leader.publish(Published::Value(entry));
                }
                return result;
            }
            ReadThrough::Compute { generations } => generations,
        };
        let ran = self.run_body(body).await;
        if let Some(ttl) = self.ttl_from.and_then(|ttl_from| ttl_from(&ran.result)) {
            self.ttl_override = Some(ttl);
        }
        let decision = self.decide(&ran, &mut snapshot);
        let doomed = leader.as_ref().is_some_and(Leader::is_doomed);
        let published = match decision {
            Decision::Store { .. } if doomed => Published::Nothing,
            Decision::Store {
                value,
                size,
                stored,
            } => {
                self.count_stored(stored, &ran);
                if let Some(generations) = generations
                    && stored != Stored::Error
                {
                    // Cached errors stay in memory.
                    self.write_remote(value.value(), generations);
                }
                let ttl = self.capped_ttl(stored);
                let entry = self.insert(value, size, snapshot.stamps, ttl, ran.compute_nanos);
                Published::Value(entry)
            }
            decision => match self.not_stored(&decision, &ran) {
                Ok(published) => published,
                Err(stale) => {
                    if let (Some(leader), Some(entry)) = (leader, &self.previous) {
                        leader.publish(Published::Stale(Arc::clone(entry)));
                    }
                    return stale;
                }
            },
        };
        if let Some(leader) = leader {
            leader.publish(published);
        }
        ran.result
    }

    /// Generations are read before the body runs: an invalidation that lands while it runs
    /// makes this result stale on arrival instead of being lost.
    pub(super) fn snapshot(&self) -> Snapshot {
        let runtime = self.runtime;
        let tags = self.tags.iter().map(TagCell::stamp).collect();
        Snapshot {
            stamps: Stamps::take(self.origin(), tags),
            sequence: self.result_tags.map(|_| runtime.tags.sequence()),
        }
    }

    async fn run_body<F: Future<Output = R>>(&self, body: F) -> Ran<R> {
        let started = Instant::now();
        let started_on_clock = self.runtime.now_nanos();
        let result = mode::computing(self.hash, body).await;
        Ran {
            result,
            computed: started.elapsed(),
            compute_nanos: self.runtime.now_nanos().saturating_sub(started_on_clock),
        }
    }

    /// What the return-type policy and the function's rules (`unless`, `min_compute`,
    /// `cache_err`, `result_tags`) make of the result.
    fn decide(&self, ran: &Ran<R>, snapshot: &mut Snapshot) -> Decision {
        let result = &ran.result;
        let config = &self.site.config;
        // `unless` and `min_compute`: a result the function's own rules say is not worth keeping.
        let declined = self.unless.is_some_and(|unless| unless(result))
            || config
                .min_compute_ms
                .is_some_and(|min| ran.compute_nanos < min.saturating_mul(1_000_000));
        let decision = match (self.codec.store)(result, config.cache_none) {
            Decision::Store { .. } if declined => Decision::NotCached,
            Decision::Error if self.cache_err.is_some_and(|accepts| accepts(result)) => self
                .codec
                .store_error
                .map_or(Decision::Error, |store| store(result)),
            decision => decision,
        };
        match (decision, snapshot.sequence) {
            (Decision::Store { .. }, Some(sequence))
                if !self.stamp_result_tags(result, sequence, &mut snapshot.stamps.tags) =>
            {
                Decision::NotCached
            }
            (decision, _) => self.weighed(decision),
        }
    }

    /// The decision, its size taken from the function's weigher when it has one for what is
    /// stored (values of `local` functions, cached errors: nothing else measures their heap).
    pub(super) fn weighed(&self, decision: Decision) -> Decision {
        match decision {
            Decision::Store {
                value,
                size,
                stored,
            } => {
                let weigher = match stored {
                    Stored::Value => self.weigh_values,
                    Stored::Error => self.weigh_errors,
                    Stored::Nothing => None,
                };
                let weighed = weigher.zip(value.value()).map(|(weigh, v)| weigh(v));
                Decision::Store {
                    size: weighed.unwrap_or(size),
                    value,
                    stored,
                }
            }
            decision => decision,
        }
    }

    fn count_stored(&self, stored: Stored, ran: &Ran<R>) {
        if stored == Stored::Error {
            bump(&self.counters.errors);
        }
        let outcome = if self.kind == MissKind::Refresh {
            CallOutcome::Refresh
        } else {
            CallOutcome::Miss
        };
        self.observe(outcome, Some(ran.computed));
    }

    /// A result not stored: counted, then what waiters get. `Err(stale)`: the function failed
    /// and `stale_if_error` answers with the last good value instead.
    fn not_stored(&self, decision: &Decision, ran: &Ran<R>) -> Result<Published, R> {
        let failed = matches!(decision, Decision::Error);
        self.observe(CallOutcome::Error, Some(ran.computed));
        bump(if failed {
            &self.counters.errors
        } else {
            &self.counters.not_cached
        });
        let servable = self
            .previous
            .as_ref()
            .filter(|entry| failed && entry.is_servable_on_error(self.runtime.now_nanos()));
        if let Some(stale) = servable.and_then(|entry| self.codec.load(entry)) {
            bump(&self.counters.stale_served);
            return Err(stale);
        }
        Ok(match &self.sharer {
            Some(sharer) => Published::Shared(Arc::new(Mutex::new((sharer.pack)(&ran.result)))),
            None => Published::Nothing,
        })
    }

    /// `result_tags`: adds the stamps of the tags the result names. `false` if one of them may
    /// have been invalidated since `sequence` (read before the body ran): the result must not
    /// be stored.
    fn stamp_result_tags(&self, result: &R, sequence: u64, stamps: &mut OwnStamps) -> bool {
        let Some(tags_of) = self.result_tags else {
            return true;
        };
        let tags = &self.runtime.tags;
        let mut named = ResultTags::default();
        tags_of(result, &mut named);
        // Stamps first: an invalidation the trace check below misses bumps a cell they hold.
        stamps.extend(named.names.iter().map(|tag| tags.intern(tag).stamp()));
        !named
            .names
            .iter()
            .any(|tag| tags.moved_since(tag, sequence))
    }

    /// The in-memory TTL of what is stored: its own, capped by the shared tier's limit when the
    /// value is shared (so memory never outlives an invalidation it missed by much).
    pub(super) fn capped_ttl(&self, stored: Stored) -> Duration {
        let ttl = self.local_ttl(stored);
        match self.shared() {
            Some((tier, _)) => ttl.min(tier.limits().l1_ttl_cap),
            None => ttl,
        }
    }

    /// Stores an entry in memory (the store counts it in).
    pub(super) fn insert(
        &self,
        value: Pending,
        value_size: usize,
        stamps: Stamps,
        ttl: Duration,
        compute_nanos: u64,
    ) -> Arc<Entry> {
        let runtime = self.runtime;
        let now = runtime.now_nanos();
        let parts = NewEntry {
            value,
            value_size,
            stamps,
            stored_at_nanos: now,
            expires_at_nanos: now.saturating_add(nanos(ttl)),
            compute_nanos,
        };
        runtime.store.insert(self.hash, parts)
    }
}

pub(crate) fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
