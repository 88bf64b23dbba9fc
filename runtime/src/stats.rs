//! Counters per cached function, as relaxed atomics, and the serializable snapshot of them.

use crate::timing::{ComputeHistogram, ComputeTimes};
use serde::Serialize;
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};

/// Live counters of one function. Relaxed atomics: each is exact, they are not mutually
/// consistent at one instant, which a statistic does not need.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Counted on every hit, from every core: striped, so that two cores hitting one function
    /// do not fight over one cache line.
    pub(crate) hits: Striped,
    pub(crate) remote_hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) coalesced: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) not_cached: AtomicU64,
    pub(crate) bypassed: AtomicU64,
    pub(crate) refreshed: AtomicU64,
    pub(crate) stale: AtomicU64,
    pub(crate) stale_served: AtomicU64,
    pub(crate) revalidations: AtomicU64,
    pub(crate) refreshed_early: AtomicU64,
    pub(crate) key_errors: AtomicU64,
    pub(crate) reentrant: AtomicU64,
    pub(crate) evictions: AtomicU64,
    pub(crate) expirations: AtomicU64,
    pub(crate) entries: AtomicI64,
    pub(crate) weighted_size: AtomicI64,
    /// How long the body took when it ran (never touched by a hit).
    pub(crate) compute: ComputeHistogram,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Relaxed);
}

/// Stripes of a [`Striped`] counter that a thread owns: the first this many threads to count
/// each own one, any other thread shares the last stripe.
const OWNED_STRIPES: usize = 8;

/// A counter in several cache lines: each of the first [`OWNED_STRIPES`] counting threads owns a
/// stripe, the one thread that writes it, so its count is a plain load and store (no locked
/// instruction, no cache line two cores fight over); other threads add atomically to a shared
/// stripe. A read sums them.
#[derive(Debug, Default)]
pub(crate) struct Striped {
    stripes: [Padded; OWNED_STRIPES + 1],
}

/// One counter alone in its cache line (128 bytes: adjacent-line prefetching pairs lines).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded(AtomicU64);

/// Which stripes are owned by a living thread.
static OWNERS: Mutex<[bool; OWNED_STRIPES]> = Mutex::new([false; OWNED_STRIPES]);

/// This thread's stripe: owned until the thread ends, then free for another.
struct StripeOwner(Option<usize>);

impl StripeOwner {
    fn claim() -> StripeOwner {
        let mut owners = OWNERS.lock().unwrap_or_else(PoisonError::into_inner);
        let free = owners.iter().position(|owned| !owned);
        if let Some(index) = free
            && let Some(owned) = owners.get_mut(index)
        {
            *owned = true;
        }
        StripeOwner(free)
    }
}

impl Drop for StripeOwner {
    fn drop(&mut self) {
        // Counts made later in this thread's exit go to the shared stripe.
        STRIPE_INDEX.set(SHARED_STRIPE);
        if let Some(index) = self.0 {
            let mut owners = OWNERS.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(owned) = owners.get_mut(index) {
                *owned = false;
            }
        }
    }
}

/// [`STRIPE_INDEX`] before this thread's first count.
const UNCLAIMED: u8 = u8::MAX;

/// [`STRIPE_INDEX`] of a thread that owns no stripe.
const SHARED_STRIPE: u8 = OWNED_STRIPES as u8;

thread_local! {
    /// This thread's claim on a stripe, released when the thread ends.
    static STRIPE: StripeOwner = StripeOwner::claim();
    /// The index of this thread's stripe, [`SHARED_STRIPE`] if it owns none, [`UNCLAIMED`]
    /// before its first count. A copy of [`STRIPE`]'s, kept where a count reads it with one
    /// load: `STRIPE` has a destructor, so each access checks its state, out of line.
    static STRIPE_INDEX: Cell<u8> = const { Cell::new(UNCLAIMED) };
}

/// This thread's stripe index, claiming a stripe on its first count.
#[inline(always)]
fn stripe_index() -> usize {
    match STRIPE_INDEX.get() {
        UNCLAIMED => claim_stripe(),
        index => usize::from(index),
    }
}

#[cold]
fn claim_stripe() -> usize {
    let owned = STRIPE.try_with(|owner| owner.0).ok().flatten();
    let index = owned.map_or(SHARED_STRIPE, |owned| owned as u8);
    STRIPE_INDEX.set(index);
    usize::from(index)
}

impl Striped {
    #[inline(always)]
    pub(crate) fn add_one(&self) {
        match stripe_index() {
            // This thread is the stripe's only writer: no read-modify-write needed. (Its last
            // store happens before it gives the stripe up, under the lock the next owner takes.)
            owned if owned < OWNED_STRIPES => {
                if let Some(Padded(count)) = self.stripes.get(owned) {
                    count.store(count.load(Relaxed).wrapping_add(1), Relaxed);
                }
            }
            _ => {
                if let Some(Padded(count)) = self.stripes.get(OWNED_STRIPES) {
                    count.fetch_add(1, Relaxed);
                }
            }
        }
    }

    pub(crate) fn sum(&self) -> u64 {
        self.stripes.iter().map(|p| p.0.load(Relaxed)).sum()
    }
}

impl Counters {
    pub(crate) fn snapshot(&self) -> Counts {
        let signed = |v: &AtomicI64| u64::try_from(v.load(Relaxed)).unwrap_or(0);
        Counts {
            hits: self.hits.sum(),
            remote_hits: self.remote_hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            coalesced: self.coalesced.load(Relaxed),
            errors: self.errors.load(Relaxed),
            not_cached: self.not_cached.load(Relaxed),
            bypassed: self.bypassed.load(Relaxed),
            refreshed: self.refreshed.load(Relaxed),
            stale: self.stale.load(Relaxed),
            stale_served: self.stale_served.load(Relaxed),
            revalidations: self.revalidations.load(Relaxed),
            refreshed_early: self.refreshed_early.load(Relaxed),
            key_errors: self.key_errors.load(Relaxed),
            reentrant: self.reentrant.load(Relaxed),
            evictions: self.evictions.load(Relaxed),
            expirations: self.expirations.load(Relaxed),
            entries: signed(&self.entries),
            weighted_size: signed(&self.weighted_size),
        }
    }
}

/// Counts of what happened to cached calls, for one function or for all of them.
///
/// ```
/// let stats = cached_query_runtime::stats();
/// let total = stats.total;
/// assert!(total.hits + total.misses >= total.hits);
/// println!("{}", total.hit_ratio());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Counts {
    /// Calls answered from memory.
    pub hits: u64,
    /// Misses in memory answered by the shared store (Redis).
    pub remote_hits: u64,
    /// Calls that found nothing usable in memory: answered by the shared store, by an identical
    /// call already running, or by running the function.
    pub misses: u64,
    /// Misses that waited for an identical call already running and took its result.
    pub coalesced: u64,
    /// Calls whose function returned `Err` (never cached).
    pub errors: u64,
    /// Calls whose result was not cached for another reason: `None` without `cache_none`.
    pub not_cached: u64,
    /// Calls run uncached inside [`bypass`](crate::bypass).
    pub bypassed: u64,
    /// Calls recomputed by [`refresh`](crate::refresh).
    pub refreshed: u64,
    /// Entries found but invalidated by a tag since they were computed (counted as misses too).
    pub stale: u64,
    /// Calls that returned an expired value: the function failed and the last good value stood
    /// in (`stale_if_error`), or a background call was recomputing it
    /// (`stale_while_revalidate`; these calls count as hits too).
    pub stale_served: u64,
    /// Recomputations run in the background while callers kept getting the previous value
    /// (`stale_while_revalidate`, and `early_refresh` on such functions).
    pub revalidations: u64,
    /// Calls that started recomputing an entry before its TTL ran out (`early_refresh`).
    pub refreshed_early: u64,
    /// Calls whose arguments could not be encoded into a key; they ran uncached.
    pub key_errors: u64,
    /// Calls of a key from inside its own computation; they ran uncached instead of deadlocking.
    pub reentrant: u64,
    /// Entries evicted to stay within the capacity.
    pub evictions: u64,
    /// Entries removed because their TTL ran out.
    pub expirations: u64,
    /// Entries currently held (eventually consistent: see [`run_pending_tasks`](crate::run_pending_tasks)).
    pub entries: u64,
    /// Bytes currently charged against the capacity.
    pub weighted_size: u64,
}

impl Counts {
    /// `hits / (hits + misses)`, or 0 when there were no calls.
    pub fn hit_ratio(&self) -> f64 {
        let calls = self.hits + self.misses;
        if calls == 0 {
            0.0
        } else {
            self.hits as f64 / calls as f64
        }
    }

    /// What happened since `before` (an earlier snapshot of the same counts): the way a test
    /// asserts the hits and misses of its own calls. Gauges (`entries`, `weighted_size`) keep
    /// their current value.
    ///
    /// ```
    /// let before = cached_query_runtime::stats().total;
    /// // ... calls under test ...
    /// let during = cached_query_runtime::stats().total.since(&before);
    /// assert_eq!(during.hits, 0);
    /// ```
    pub fn since(&self, before: &Counts) -> Counts {
        Counts {
            hits: self.hits.saturating_sub(before.hits),
            remote_hits: self.remote_hits.saturating_sub(before.remote_hits),
            misses: self.misses.saturating_sub(before.misses),
            coalesced: self.coalesced.saturating_sub(before.coalesced),
            errors: self.errors.saturating_sub(before.errors),
            not_cached: self.not_cached.saturating_sub(before.not_cached),
            bypassed: self.bypassed.saturating_sub(before.bypassed),
            refreshed: self.refreshed.saturating_sub(before.refreshed),
            stale: self.stale.saturating_sub(before.stale),
            stale_served: self.stale_served.saturating_sub(before.stale_served),
            revalidations: self.revalidations.saturating_sub(before.revalidations),
            refreshed_early: self.refreshed_early.saturating_sub(before.refreshed_early),
            key_errors: self.key_errors.saturating_sub(before.key_errors),
            reentrant: self.reentrant.saturating_sub(before.reentrant),
            evictions: self.evictions.saturating_sub(before.evictions),
            expirations: self.expirations.saturating_sub(before.expirations),
            entries: self.entries,
            weighted_size: self.weighted_size,
        }
    }

    pub(crate) fn add(&mut self, other: &Counts) {
        self.hits += other.hits;
        self.remote_hits += other.remote_hits;
        self.misses += other.misses;
        self.coalesced += other.coalesced;
        self.errors += other.errors;
        self.not_cached += other.not_cached;
        self.bypassed += other.bypassed;
        self.refreshed += other.refreshed;
        self.stale += other.stale;
        self.stale_served += other.stale_served;
        self.revalidations += other.revalidations;
        self.refreshed_early += other.refreshed_early;
        self.key_errors += other.key_errors;
        self.reentrant += other.reentrant;
        self.evictions += other.evictions;
        self.expirations += other.expirations;
        self.entries += other.entries;
        self.weighted_size += other.weighted_size;
    }
}

/// The counts of one cached function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FunctionStats {
    /// The function's identity: its full path (`crate::module::Type::method`) or its `name = ".."`.
    pub name: String,
    /// What happened to its calls.
    pub counts: Counts,
    /// How long its body took when it ran.
    pub compute: ComputeTimes,
}

/// A snapshot of every cached function's counts, and their sum.
///
/// It implements `serde::Serialize`, so it can be served as JSON from a `/stats` endpoint.
///
/// ```
/// let stats = cached_query_runtime::stats();
/// for function in &stats.functions {
///     println!("{}: {:.0} % hits", function.name, function.counts.hit_ratio() * 100.0);
/// }
/// assert!(stats.function("no::such::function").is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// The sum over all functions.
    pub total: Counts,
    /// One row per function that has been called at least once.
    pub functions: Vec<FunctionStats>,
    /// Tag cells held by the registry. Cells of tags no entry carries any more are swept as the
    /// registry grows, so this stays within about twice the number of live tags.
    pub tag_cells: u64,
    /// The shared tier of the instance, when one is configured.
    /// Always `None` without the `redis` feature.
    pub shared: Option<crate::tier::SharedStats>,
}

impl Stats {
    /// The row of the function whose name is `name`, else of the first whose path ends with
    /// the whole segments `name` (so `"get_user"`, `"users::get_user"` and the full path all
    /// match `app::users::get_user`, but `"user"` and `"s::get_user"` do not).
    pub fn function(&self, name: &str) -> Option<&FunctionStats> {
        self.functions.iter().find(|f| f.name == name).or_else(|| {
            self.functions
                .iter()
                .find(|f| ends_with_segments(&f.name, name))
        })
    }
}

/// Whether `path` ends with `::tail` at a segment boundary outside any generic arguments
/// (`a::Repo<b::C>::get` ends with `get` and `Repo<b::C>::get`, not with `C>::get`).
fn ends_with_segments(path: &str, tail: &str) -> bool {
    path.strip_suffix(tail)
        .and_then(|head| head.strip_suffix("::"))
        .is_some_and(|head| head.matches('<').count() == head.matches('>').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats_of(names: &[&str]) -> Stats {
        Stats {
            functions: names
                .iter()
                .map(|name| FunctionStats {
                    name: (*name).to_string(),
                    counts: Counts::default(),
                    compute: ComputeTimes::default(),
                })
                .collect(),
            ..Stats::default()
        }
    }

    fn found<'a>(stats: &'a Stats, name: &str) -> Option<&'a str> {
        stats.function(name).map(|row| row.name.as_str())
    }

    #[test]
    fn a_name_matches_whole_trailing_segments_only() {
        let stats = stats_of(&["app::users::get_user", "app::Repo<app::Item>::label"]);
        assert_eq!(found(&stats, "get_user"), Some("app::users::get_user"));
        assert_eq!(
            found(&stats, "users::get_user"),
            Some("app::users::get_user")
        );
        assert_eq!(found(&stats, "user"), None);
        assert_eq!(found(&stats, "s::get_user"), None);
        assert_eq!(
            found(&stats, "Repo<app::Item>::label"),
            Some("app::Repo<app::Item>::label")
        );
        assert_eq!(found(&stats, "Item>::label"), None);
    }

    #[test]
    fn a_whole_name_wins_over_a_suffix() {
        let stats = stats_of(&["app::get_user", "get_user"]);
        assert_eq!(found(&stats, "get_user"), Some("get_user"));
    }
}

#[cfg(test)]
mod striped_tests {
    use super::Striped;

    #[test]
    fn every_count_is_kept_by_owning_and_sharing_threads_alike() {
        let counter = Striped::default();
        // More threads at once than there are owned stripes, in two waves so that the second
        // takes over the stripes the first gave up.
        for _ in 0..2 {
            std::thread::scope(|s| {
                for _ in 0..12 {
                    s.spawn(|| (0..1_000).for_each(|_| counter.add_one()));
                }
            });
        }
        assert_eq!(counter.sum(), 24_000);
    }
}
