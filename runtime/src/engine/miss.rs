//! A call that found no usable entry: what it knows (its key, tags, the function's rules), as
//! generated code fills it in before running the body.

use crate::function::FunctionState;
use crate::key::{Key, REUSED_BUFFER_LIMIT, TAG_BUFFER};
use crate::observe::{self, CallOutcome, Tier};
use crate::policy::ResultTags;
use crate::runtime::{Runtime, runtime};
use crate::share::Sharer;
use crate::site::Site;
use crate::stats::{Counters, bump};
use crate::store::{Entry, Implicit, Origin, OriginSpec};
use crate::tags::TagCell;
use crate::tier;
use crate::value::{Codec, SharedCodec, Stored};
use crate::weigh::Weigher;
use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The first step of a cached call: a hit, or what is needed to compute the result.
///
/// Two variants only, so that generated code matches the answer with no await in an arm: an
/// await there keeps the answer (a temporary of the match's statement) alive across it, in the
/// caller's future, and every hit's value was written into that future and read back out.
pub enum Enter<R> {
    /// The cached result.
    Hit(R),
    /// No usable entry: compute it with [`Miss::run`] (or, in a calling mode that ends the call
    /// elsewhere, such as `forget`, do that instead of running the body). Boxed: a `Miss` is
    /// large (the key's tags, the codec, the function's rules), and an unboxed one would make
    /// every caller's future, moved on every call, hits included, that much larger.
    Miss(Box<Miss<R>>),
}

/// What a call does instead of producing a value, in a calling mode that ends it elsewhere
/// (`forget(call)`, `forget_all(call)`, the read call of a `#[cache_put]` that is not cached).
pub(super) type Ending = Pin<Box<dyn Future<Output = ()> + Send>>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum MissKind {
    /// Single-flight, then store.
    Compute,
    /// Run and store, whatever is cached or running.
    Refresh,
    /// Run without touching the cache.
    Uncached,
    /// `#[cache_put]`: the body never runs; the entry is prepared for a value the write
    /// function returns (`engine/put.rs`).
    Put,
    /// A usable previous value exists (`Miss::previous`): recompute it once, in the background
    /// when the function allows it, and let every other caller have the previous value.
    Revalidate,
    /// A calling mode that ends the call elsewhere: the body never runs; `Miss::ending` (the
    /// removal, for `forget`) is awaited in its place, and the call then never completes (the
    /// calling mode's wrapper ends it).
    End,
}

/// The cells of a call's own tags: inline up to four (most functions declare one or two), so
/// that tagging a call allocates nothing.
pub(super) type TagCells = smallvec::SmallVec<[Arc<TagCell>; 4]>;

/// A call that found no usable entry.
pub struct Miss<R> {
    pub(super) site: &'static Site,
    pub(super) function: &'static FunctionState,
    /// The function's counters in this call's instance.
    pub(super) counters: &'static Counters,
    pub(super) hash: u128,
    pub(super) kind: MissKind,
    pub(super) runtime: &'static Runtime,
    pub(super) tags: TagCells,
    pub(super) codec: Codec<R>,
    pub(super) sharer: Option<Sharer<R>>,
    /// A TTL given by the caller (the manual API) instead of the site's.
    pub(super) ttl_override: Option<Duration>,
    /// The entry this call may answer with instead of waiting: an expired one to return if the
    /// function fails (`stale_if_error`), or one being recomputed (`Revalidate`).
    pub(super) previous: Option<Arc<Entry>>,
    /// `unless`: results it accepts are not stored.
    pub(super) unless: Option<fn(&R) -> bool>,
    /// `result_tags`: tags taken from the result.
    pub(super) result_tags: Option<fn(&R, &mut ResultTags)>,
    /// `cache_err`: errors it accepts are stored.
    pub(super) cache_err: Option<fn(&R) -> bool>,
    /// A TTL read from the computed result, replacing the others when it gives one
    /// ([`Rules::ttl_from`](crate::Rules::ttl_from)).
    pub(super) ttl_from: Option<fn(&R) -> Option<Duration>>,
    /// What stored values and errors weigh, when it is better known than their `size_of`.
    pub(super) weigh_values: Option<Weigher>,
    pub(super) weigh_errors: Option<Weigher>,
    /// What the call does instead ([`MissKind::End`]). In a mutex, which it is only taken out
    /// of, because a `Miss` is shared with the tasks of its computation and the future need
    /// not be `Sync`.
    pub(super) ending: Option<Mutex<Ending>>,
}

impl<R> Miss<R> {
    pub(super) fn new(
        site: &'static Site,
        key: &Key,
        counters: &'static Counters,
        kind: MissKind,
        codec: Codec<R>,
        previous: Option<Arc<Entry>>,
    ) -> Self {
        Miss {
            site,
            function: key.function,
            counters,
            hash: key.hash.unwrap_or_default(),
            kind,
            runtime: runtime(),
            tags: TagCells::new(),
            codec,
            sharer: None,
            ttl_override: None,
            previous,
            unless: None,
            result_tags: None,
            cache_err: None,
            ttl_from: None,
            weigh_values: None,
            weigh_errors: None,
            ending: None,
        }
    }

    /// A call that does `ending` instead of producing a value ([`MissKind::End`]).
    pub(super) fn ending(
        site: &'static Site,
        key: &Key,
        counters: &'static Counters,
        codec: Codec<R>,
        ending: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        Miss {
            ending: Some(Mutex::new(Box::pin(ending))),
            ..Miss::new(site, key, counters, MissKind::End, codec, None)
        }
    }

    /// Does what the call does instead of producing a value, then never completes.
    pub(super) async fn end(self: Box<Self>) -> R {
        if let Some(ending) = self.ending {
            ending
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .await;
        }
        std::future::pending().await
    }

    /// The same miss again (its key, tags and rules): a batch call that hands an item to
    /// another call's merged computation keeps one, to claim the item again if that call fails.
    pub(super) fn duplicate(&self) -> Self {
        Miss {
            site: self.site,
            function: self.function,
            counters: self.counters,
            hash: self.hash,
            kind: self.kind,
            runtime: self.runtime,
            tags: self.tags.clone(),
            codec: self.codec,
            sharer: self.sharer.clone(),
            ttl_override: self.ttl_override,
            previous: self.previous.clone(),
            unless: self.unless,
            result_tags: self.result_tags,
            cache_err: self.cache_err,
            ttl_from: self.ttl_from,
            weigh_values: self.weigh_values,
            weigh_errors: self.weigh_errors,
            ending: None,
        }
    }

    fn wants_tags(&self) -> bool {
        !matches!(self.kind, MissKind::Uncached | MissKind::End)
    }

    /// Tags the entry with a fixed tag.
    pub fn tag(&mut self, tag: &str) {
        if self.wants_tags() {
            self.tags.push(self.runtime.tags.intern(tag));
        }
    }

    /// Tags the entry with a tag formatted from the arguments.
    pub fn tag_fmt(&mut self, tag: fmt::Arguments<'_>) {
        if !self.wants_tags() {
            return;
        }
        if let Some(fixed) = tag.as_str() {
            return self.tag(fixed);
        }
        let mut buffer = TAG_BUFFER.with(Cell::take);
        buffer.clear();
        // Writing into a `String` only fails if a `Display` impl does; the tag is then partial,
        // which at worst merges two tags (over-invalidation), never serves a wrong value.
        let _ = buffer.write_fmt(tag);
        self.tag(&buffer);
        if buffer.capacity() <= REUSED_BUFFER_LIMIT {
            TAG_BUFFER.with(|cell| cell.set(buffer));
        }
    }

    /// Does not store results `predicate` accepts (`unless`).
    pub fn unless(&mut self, predicate: fn(&R) -> bool) {
        self.unless = Some(predicate);
    }

    /// Adds the tags `tags` takes from the result to the entry (`result_tags`).
    pub fn result_tags(&mut self, tags: fn(&R, &mut ResultTags)) {
        self.result_tags = Some(tags);
    }

    /// Stores the errors `predicate` accepts, for the function's `err_ttl` (`cache_err`).
    pub fn cache_err(&mut self, predicate: fn(&R) -> bool) {
        self.cache_err = Some(predicate);
    }

    /// Stores the result for `ttl` instead of the function's TTL.
    pub(crate) fn set_ttl(&mut self, ttl: Duration) {
        self.ttl_override = Some(ttl);
    }

    /// Stores the result for the TTL `ttl_from` reads from it, when it gives one.
    pub(crate) fn ttl_from(&mut self, ttl_from: fn(&R) -> Option<Duration>) {
        self.ttl_from = Some(ttl_from);
    }

    /// Lets waiters of this computation take a clone of an uncached result.
    pub fn share_clones(&mut self, sharer: Option<Sharer<R>>) {
        self.sharer = sharer;
    }

    /// Weighs the values stored (a `local` function's: they have no encoded size) with
    /// `weigher`; `None` keeps the estimate of their `size_of`.
    pub fn weigh_values(&mut self, weigher: Option<Weigher>) {
        self.weigh_values = weigher;
    }

    /// Weighs the errors stored (`cache_err`) with `weigher`; `None` keeps `size_of`.
    pub fn weigh_errors(&mut self, weigher: Option<Weigher>) {
        self.weigh_errors = weigher;
    }

    /// Computes the result with `body`: once per key across concurrent callers, storing what the
    /// return-type policy allows. The computation is boxed, so that the caller's future (moved
    /// on every call, hits included) does not carry it.
    pub fn run<F: Future<Output = R>>(
        self: Box<Self>,
        body: F,
    ) -> Pin<Box<impl Future<Output = R>>> {
        Box::pin(self.run_single_flight(body))
    }

    /// Like [`run`](Self::run), but when a usable previous value exists (`stale_while_revalidate`
    /// window, or an `early_refresh` draw) it is returned at once and `body` recomputes it in a
    /// background task: one per key, however many callers see the previous value meanwhile.
    /// Outside a tokio runtime there is nowhere to run it: this caller recomputes instead.
    pub fn run_or_revalidate<F>(self: Box<Self>, body: F) -> Pin<Box<impl Future<Output = R>>>
    where
        F: Future<Output = R> + Send + 'static,
        R: Send + 'static,
    {
        Box::pin(self.revalidate_in_background(body))
    }

    /// What this call's entries share with the function's others in this instance.
    pub(super) fn origin(&self) -> &'static Origin {
        let function_tag: &'static str = &self.function.tag;
        let config = &self.site.config;
        self.runtime.origin(OriginSpec {
            counters: self.counters,
            implicit: match self.shared() {
                Some(_) => Implicit::Shared(function_tag),
                None => Implicit::Memory(function_tag),
            },
            serve_on_error_ms: config.stale_if_error_ms,
            revalidate_ms: config.revalidate_ms,
            keeps_age: self.site.keeps_age,
        })
    }

    /// The shared tier and this function's encoding, when its values are shared.
    pub(super) fn shared(&self) -> Option<(&'static dyn tier::Tier, SharedCodec)> {
        // Tags known only after the computation could not be checked against invalidations in
        // other instances: such functions stay in memory.
        if self.result_tags.is_some() || !self.runtime.is_shared(self.site.config.store) {
            return None;
        }
        Some((self.runtime.tier.as_deref()?, self.codec.shared?))
    }

    /// The tags as the shared tier knows them (see [`tier::tag_names`]), borrowed.
    pub(super) fn remote_tag_names(&self) -> tier::TagNames<'_> {
        let own = self.tags.iter().map(|cell| &**cell.name());
        tier::tag_names(&self.function.tag, own)
    }

    /// [`remote_tag_names`](Self::remote_tag_names) for a write, which outlives the call.
    pub(super) fn remote_tag_arcs(&self) -> Vec<Arc<str>> {
        tier::tag_arcs(&self.function.tag, self.tags.iter().map(|cell| cell.name()))
    }

    /// The value this revalidation replaces.
    pub(super) fn previous(&self) -> Option<R> {
        self.codec.load(self.previous.as_ref()?)
    }

    /// Whether the previous value has not expired yet (an `early_refresh` draw).
    pub(super) fn is_early(&self) -> bool {
        self.previous
            .as_ref()
            .is_some_and(|entry| !entry.is_expired(self.runtime.now_nanos()))
    }

    /// Counts a call answered with the previous value: a hit, and stale once expired.
    pub(super) fn count_served_previous(&self) {
        self.counters.hits.add_one();
        if !self.is_early() {
            bump(&self.counters.stale_served);
        }
        self.observe(CallOutcome::Hit, None);
    }

    /// Counts a revalidation this caller computes itself.
    pub(super) fn count_recomputed_by_caller(&self) {
        bump(&self.counters.misses);
        if self.is_early() {
            bump(&self.counters.refreshed_early);
        }
    }

    /// Counts a call answered by another caller's computation.
    pub(super) fn count_coalesced(&self) {
        bump(&self.counters.coalesced);
        self.observe(CallOutcome::Coalesced, None);
    }

    pub(super) fn observe(&self, outcome: CallOutcome, computed: Option<Duration>) {
        self.observe_at(outcome, Tier::Memory, computed);
    }

    pub(super) fn observe_at(&self, outcome: CallOutcome, tier: Tier, computed: Option<Duration>) {
        if let Some(took) = computed {
            self.counters.compute.record(took);
        }
        observe::call(self.function, self.hash, outcome, tier, computed);
    }

    /// The TTL of what is stored (the function's, its `None` or its error TTL), jittered.
    pub(super) fn local_ttl(&self, stored: Stored) -> Duration {
        let runtime = self.runtime;
        let ttl = match (self.ttl_override, stored) {
            (Some(ttl), _) => ttl,
            (None, Stored::Value) => self.site.ttl(runtime),
            (None, Stored::Nothing) => self.site.none_ttl(runtime),
            (None, Stored::Error) => self.site.err_ttl(runtime),
        };
        runtime.jittered(ttl, self.hash)
    }
}
