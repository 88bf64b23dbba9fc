//! `#[cache_put]`: a write function's new value stored as the entry of a read call, in two
//! steps around the write.
//!
//! 1. Before the write body runs, the read call is made in the put mode ([`prepare_put`]). Its
//!    generated code builds the key and tags as for any call; instead of running its body, the
//!    miss prepares the entry ([`Miss::prepare_put`]): it snapshots the generations of the
//!    entry's tags and, when the function shares its values, reads the shared tier's
//!    generations. So an invalidation that lands while the write runs makes the stored entry
//!    stale on arrival (in memory, and refused by the shared tier's write script): a put never
//!    resurrects a value older than an invalidation.
//! 2. After the write succeeded, [`store_put`] stores its value: a computation of the key
//!    running now is not stored (it may have read the old data); with a shared tier the value is
//!    written to it, then a key-level drop goes through the invalidation channel and is
//!    acknowledged by every instance (each removes its in-memory copy), all before the put
//!    returns; then the entry is stored in memory with the read function's TTL and windows.

use super::miss::Miss;
use super::mode::{self, Mode, one_shot};
use crate::bounds::PutTarget;
use crate::runtime::Runtime;
use crate::stats::{Counters, bump};
use crate::store::{NewEntry, Pending, Stamps};
use crate::tags::key_drop_tag;
use crate::tier::{self, Remote, Tier, Write};
use crate::value::{SharedCodec, Stored};
use crate::weigh::Weigher;
use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// The entry of a read call, ready to receive the value a write function returns; `R` is what
/// the read function returns (checked against the value's type by [`store_put`]'s bound).
pub struct PreparedPut<R> {
    entry: Prepared,
    returns: PhantomData<fn() -> R>,
}

/// What [`PreparedPut`] holds, whatever the read function returns.
struct Prepared {
    runtime: &'static Runtime,
    counters: &'static Counters,
    hash: u128,
    /// The generations of the entry's tags before the write ran.
    stamps: Stamps,
    /// Whether a value is of the type the read function's entries hold.
    accepts: fn(&(dyn Any + Send + Sync)) -> bool,
    weigh_values: Option<Weigher>,
    /// The in-memory TTL (the read function's, capped when shared).
    memory_ttl: Duration,
    shared: Option<SharedPut>,
}

/// The shared tier's part of a put.
struct SharedPut {
    tier: &'static dyn Tier,
    codec: SharedCodec,
    tags: Vec<Arc<str>>,
    /// The tier's generations before the write ran; `None` if it did not answer.
    generations: Option<Vec<u8>>,
    ttl: Duration,
}

thread_local! {
    /// Hands the prepared entry from the read call's miss to [`prepare_put`], within one poll.
    static PREPARED: RefCell<Option<Prepared>> = const { RefCell::new(None) };
}

impl<R> Miss<R> {
    /// The read call's side of step 1: prepares the entry, hands it over, and ends the call
    /// (the put mode's wrapper stops polling it; its body never runs).
    pub(super) async fn prepare_put(self: Box<Self>) -> R {
        if self.result_tags.is_some() {
            // Its entries carry tags taken from the result, stamped after the computation:
            // a put can't stamp them before the write. Its old entry goes instead, and the next
            // read computes the new value with its tags.
            self.runtime.flights.doom(self.hash);
            self.runtime.store.remove(self.hash);
            mode::finish(false);
            return std::future::pending().await;
        }
        let stamps = self.snapshot().stamps;
        let shared = match self.shared() {
            Some((tier, codec)) => {
                let tags = self.remote_tag_names();
                let read = tier.read(self.hash, &tags, self.entry_ttl(), false).await;
                let generations = match read {
                    Ok(Remote::Miss { generations }) => Some(generations),
                    Ok(Remote::Hit { generations, .. }) => Some(generations.into_vec()),
                    Err(_) => None,
                };
                Some(SharedPut {
                    tier,
                    codec,
                    tags: self.remote_tag_arcs(),
                    generations,
                    ttl: self.local_ttl(Stored::Value),
                })
            }
            None => None,
        };
        let prepared = Prepared {
            runtime: self.runtime,
            counters: self.counters,
            hash: self.hash,
            stamps,
            accepts: self.codec.accepts,
            weigh_values: self.weigh_values,
            memory_ttl: self.capped_ttl(Stored::Value),
            shared,
        };
        PREPARED.with(|slot| *slot.borrow_mut() = Some(prepared));
        mode::finish(true);
        std::future::pending().await
    }
}

/// Step 1 of `#[cache_put]`, called by its generated code before the write body: makes `call`
/// (a call of a `#[cached_query]` function) in the put mode, which prepares its entry without
/// running its body. `None` when the call is not cached (its key failed to encode, its
/// `condition` is false, it is a batch call): there is nothing to store then. A call of a
/// function without `#[cached_query]` simply runs, and there is nothing to store either.
pub async fn prepare_put<F: Future>(call: F) -> Option<PreparedPut<F::Output>> {
    PREPARED.with(|slot| slot.borrow_mut().take());
    match one_shot(Mode::Put, call).await {
        // Handed over in the poll that ended the call, on this thread.
        Err(true) => PREPARED
            .with(|slot| slot.borrow_mut().take())
            .map(|entry| PreparedPut {
                entry,
                returns: PhantomData,
            }),
        Err(false) | Ok(_) => None,
    }
}

/// Step 2 of `#[cache_put]`, called by its generated code after the write succeeded: stores
/// `value` as the prepared entry (see the module's documentation). `R: PutTarget<V>` is the
/// compile-time check that `V` is what the read function caches; the future it returns carries
/// no bound of its own, so an unmet one is reported once, at the call.
pub fn store_put<R, V>(prepared: Option<PreparedPut<R>>, value: V) -> Storing
where
    R: PutTarget<V>,
    V: Send + Sync + 'static,
{
    let size = std::mem::size_of::<V>();
    let entry = prepared.map(|prepared| prepared.entry);
    Box::pin(async move {
        if let Some(entry) = entry {
            entry.store(Pending::new(value), size).await;
        }
    })
}

/// The store of a put (see [`store_put`]).
pub type Storing = Pin<Box<dyn Future<Output = ()> + Send>>;

impl Prepared {
    async fn store(self, value: Pending, inline_size: usize) {
        let Some(held) = value.value() else {
            return;
        };
        // `PutTarget` lets through a value the read function stores under another policy
        // (an `Option<T>` given to a function that caches the `T` of its `Option<T>`): not
        // stored, and counted as a result not cached.
        if !(self.accepts)(held) {
            bump(&self.counters.not_cached);
            return;
        }
        let runtime = self.runtime;
        runtime.flights.doom(self.hash);
        let mut size = inline_size;
        if let Some(shared) = &self.shared {
            let payload = tier::encode(shared.tier.limits(), shared.codec, held);
            if let Some(bytes) = &payload {
                size = bytes.len();
            }
            shared.publish(self.hash, payload).await;
        }
        if let Some(weigh) = self.weigh_values {
            size = weigh(held);
        }
        let now = runtime.now_nanos();
        runtime.store.insert(
            self.hash,
            NewEntry {
                value,
                value_size: size,
                stamps: self.stamps,
                stored_at_nanos: now,
                expires_at_nanos: now.saturating_add(super::compute::nanos(self.memory_ttl)),
                compute_nanos: 0,
            },
        );
    }
}

impl SharedPut {
    /// Writes the value to the shared tier now (under the generations read before the write:
    /// refused if one moved), else removes what it held; then has every instance drop its
    /// in-memory copy. Failures are counted by the tier; the put itself goes on in memory.
    async fn publish(&self, hash: u128, payload: Option<Vec<u8>>) {
        let tier = self.tier;
        let written = match (&self.generations, payload) {
            (Some(generations), Some(payload)) => tier
                .write_now(Write {
                    key: hash,
                    tags: self.tags.clone(),
                    generations: generations.clone(),
                    schema: tier::schema_fingerprint(self.codec),
                    payload: Some(payload),
                    ttl: self.ttl,
                    lease: None,
                })
                .await
                .unwrap_or(false),
            (_, None) => {
                tier.count_refused();
                false
            }
            (None, Some(_)) => false,
        };
        if !written {
            let _ = tier.delete(hash).await;
        }
        let drop_key = key_drop_tag(hash);
        let _ = tier.invalidate(&[drop_key.as_str()]).await;
    }
}
