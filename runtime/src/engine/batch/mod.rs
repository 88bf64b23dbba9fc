//! A batch call (`#[cached_query(batch)]`): one call for many items, each item cached as the
//! entry of the same function called with that item alone. In the order it happens:
//!
//! 1. [`enter`]: the calling mode, then every distinct item looked up in memory with the one
//!    freshness rule; all found is a hit. Each missing item gets a [`Miss`] of its own (its
//!    key, its tags, which generated code adds next), as a single call would.
//! 2. [`claim`]: each missing item, in the order of its key, is claimed (its flight led) or
//!    waited for when another call is loading it. Claims are taken in key order and a call only
//!    ever waits for an item ordered after every item it holds, so two overlapping batches
//!    cannot wait for each other: one of them takes what they share, the other waits.
//! 3. [`merge`] (`merge = "2ms"`): the claimed items of concurrent calls with the same other
//!    arguments join one window, whose first call runs the body for all of them.
//! 4. [`compute`]: the leader's steps, item by item where a single call has one: snapshot the
//!    tags, read the shared tier (one round trip for all), run the body once with exactly the
//!    items left, store each returned item and each absent one, publish each to its waiters.
//!
//! The body runs at most once per call, and never with an empty batch.

mod claim;
mod compute;
mod enter;
mod merge;
#[cfg(test)]
mod tests;

pub use enter::enter_batch;

use super::miss::{Miss, MissKind};
use crate::batching::BatchCodec;
use crate::flight::Leader;
use crate::function::FunctionState;
use crate::key::BatchKeys;
use crate::runtime::Runtime;
use crate::share::Sharer;
use crate::site::Site;
use crate::stats::Counters;
use crate::weigh::Weigher;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The first step of a batch call.
pub enum BatchEnter<R, K, V, C> {
    /// Every item was found: the result.
    Hit(R),
    /// Some items are missing: compute them with [`BatchMiss::run`].
    Miss(Box<BatchMiss<R, K, V, C>>),
}

/// A batch call with missing items: what it found, what it still needs.
pub struct BatchMiss<R, K, V, C> {
    site: &'static Site,
    function: &'static FunctionState,
    counters: &'static Counters,
    runtime: &'static Runtime,
    kind: MissKind,
    codec: BatchCodec<R, K, V>,
    keys: BatchKeys,
    key_of: fn(&BatchKeys, &K) -> Option<u128>,
    /// The body's share of the items, as the batch parameter's collection.
    collect: fn(Vec<K>) -> C,
    /// The items answered so far, with their values (items known to be absent are left out).
    answered: Vec<(K, V)>,
    /// The items still to answer, each with the miss a call of that item alone would have.
    missing: Vec<Missing<K, V>>,
    sharer: Option<Sharer<R>>,
    merge: Option<merge::Merging<K, V>>,
    weigh_values: Option<Weigher>,
}

/// An item not answered yet.
pub(super) struct Missing<K, V> {
    item: K,
    miss: Box<Miss<Option<V>>>,
}

/// An item this call (or the window it drives) computes.
pub(super) struct Claimed<K, V> {
    item: K,
    miss: Box<Miss<Option<V>>>,
    /// The item's flight; `None` for a refresh, which computes whatever is running.
    leader: Option<Leader>,
    /// Whether the item is this call's own (a window's driver also computes its passengers').
    own: bool,
}

impl<K, V> Missing<K, V> {
    fn hash(&self) -> u128 {
        self.miss.hash
    }
}

/// What an item's waiter finds published: present, absent, the body's error, or nothing it can
/// use (its leader went away): then it looks again.
pub(super) enum Found<V, R> {
    Present(V),
    Absent,
    Failed(R),
    Retry,
}

/// What a leader publishes for an item its body did not return, when absent items are not
/// cached: its waiters take it as absent instead of loading it again.
pub(super) struct AbsentItem;

impl<R, K, V, C> BatchMiss<R, K, V, C> {
    /// Adds each missing item's tags: `tags` is called once per item, with the item's miss to
    /// tag (as a single call's `Miss::tag`/`tag_fmt`) and the item.
    pub fn tag_items(&mut self, mut tags: impl FnMut(&mut Miss<Option<V>>, &K)) {
        for missing in &mut self.missing {
            tags(&mut missing.miss, &missing.item);
        }
    }

    /// Lets waiters of this call's items take a clone of the body's error.
    pub fn share_clones(&mut self, sharer: Option<Sharer<R>>) {
        self.sharer = sharer;
    }

    /// Weighs stored values (a `local` function's) with `weigher`.
    pub fn weigh_values(&mut self, weigher: Option<Weigher>) {
        self.weigh_values = weigher;
    }

    /// `merge = ..`, `max_batch = ..`: items this call computes wait up to `window_ms` for
    /// those of concurrent calls (with the same other arguments), up to `max_batch` items,
    /// and one body call computes them all.
    pub fn merge(&mut self, window_ms: u64, max_batch: u32)
    where
        K: Clone + Send + 'static,
        V: 'static,
    {
        self.merge = Some(merge::Merging::new(
            Duration::from_millis(window_ms),
            max_batch,
        ));
    }

    /// Computes the missing items with `body`, called at most once, with exactly the items no
    /// other call is loading (collected into the batch parameter's collection), and returns
    /// the result for every item of the call. Boxed, off the caller's future.
    pub fn run<B, F>(self: Box<Self>, body: B) -> Pin<Box<impl Future<Output = R>>>
    where
        B: FnOnce(C) -> F,
        F: Future<Output = R>,
    {
        Box::pin(self.run_batch(body))
    }

    async fn run_batch<B, F>(mut self: Box<Self>, body: B) -> R
    where
        B: FnOnce(C) -> F,
        F: Future<Output = R>,
    {
        let mut missing = std::mem::take(&mut self.missing);
        if self.kind == MissKind::Uncached {
            return self.run_uncached(missing, body).await;
        }
        loop {
            let claimed = match self.claim_all(missing).await {
                Ok(claimed) => claimed,
                Err(claim::Stop::Failed(result)) => return result,
                Err(claim::Stop::Reentrant(rest)) => return self.run_uncached(rest, body).await,
            };
            let claimed = match self.merged(claimed).await {
                merge::Merged::Compute(claimed) => claimed,
                merge::Merged::Passenger(waiting) => match self.wait_as_passenger(waiting).await {
                    Ok(retry) => {
                        missing = retry;
                        continue;
                    }
                    Err(result) => return result,
                },
            };
            return match self.compute(claimed, body).await {
                Ok(()) => (self.codec.wrap)(std::mem::take(&mut self.answered)),
                Err(result) => result,
            };
        }
    }

    /// `bypass`, `condition`, a key that failed to encode, or a call made from inside the
    /// computation of one of its own items: the body with every item not answered yet,
    /// nothing stored.
    async fn run_uncached<B, F>(&mut self, missing: Vec<Missing<K, V>>, body: B) -> R
    where
        B: FnOnce(C) -> F,
        F: Future<Output = R>,
    {
        if missing.is_empty() {
            return (self.codec.wrap)(std::mem::take(&mut self.answered));
        }
        let result = body((self.collect)(
            missing.into_iter().map(|m| m.item).collect(),
        ))
        .await;
        if self.answered.is_empty() {
            return result;
        }
        match (self.codec.split)(result) {
            Ok(pairs) => {
                self.answered.extend(pairs);
                (self.codec.wrap)(std::mem::take(&mut self.answered))
            }
            Err(result) => result,
        }
    }
}
