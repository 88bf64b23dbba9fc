//! Values in and out of entries: the type-erased codec each call site builds where its value
//! bounds are proven, what an entry holds (`Stored`), and what a result becomes (`Decision`).

use crate::bounds::{CacheError, CacheValue, LocalValue, ResultType};
use crate::codec;
use crate::policy::{CachedErr, Outcome, Policy};
use crate::store::{Entry, Nothing, Pending};
use std::any::{Any, TypeId};
use std::sync::atomic::AtomicI64;
use std::sync::atomic::Ordering::SeqCst;

// ---------------------------------------------------------------------------------------------
// The call.

/// How to move values of one policy in and out of entries, built where the bounds are proven.
pub struct Codec<R> {
    load: fn(&Entry) -> Option<R>,
    /// Whether a value is of the type entries of this codec hold (`#[cache_put]` checks the
    /// value it is given with it).
    pub(crate) accepts: fn(&(dyn Any + Send + Sync)) -> bool,
    pub(crate) store: fn(&R, bool) -> Decision,
    /// Stores an `Err` (`cache_err`); `None` when the function caches no errors.
    pub(crate) store_error: Option<fn(&R) -> Decision>,
    /// Loads a cached `Err` (`cache_err`).
    load_error: Option<fn(&Entry) -> Option<R>>,
    /// How values travel to and from a shared store; `None` for `local` functions.
    pub(crate) shared: Option<SharedCodec>,
}

/// Encoding of one function's values for the shared store.
#[derive(Clone, Copy)]
pub(crate) struct SharedCodec {
    /// Names the stored type: bincode is not self-describing, so bytes of another type (or of
    /// this type's older shape under another name) must never be decoded as this one.
    pub(crate) schema: fn() -> &'static str,
    pub(crate) encode: fn(&(dyn Any + Send + Sync)) -> Option<Vec<u8>>,
    /// Takes the bytes: a byte string is decoded in the buffer it arrived in.
    pub(crate) decode: fn(Vec<u8>, usize) -> Option<Pending>,
}

impl SharedCodec {
    pub(crate) fn of<V: CacheValue>() -> Option<SharedCodec> {
        Some(SharedCodec {
            schema: std::any::type_name::<V>,
            // Byte strings (rendered pages, serialized blobs) at once: serde walks a `Vec<u8>`
            // one element at a time. The bytes are the same either way.
            encode: |value| {
                if let Some(bytes) = value.downcast_ref::<Vec<u8>>() {
                    return Some(codec::encode_bytes(bytes));
                }
                let mut bytes = Vec::new();
                codec::encode_into(value.downcast_ref::<V>()?, &mut bytes).ok()?;
                Some(bytes)
            },
            decode: |bytes, limit| {
                if TypeId::of::<V>() == TypeId::of::<Vec<u8>>() {
                    return codec::decode_bytes(bytes, limit).map(Pending::new);
                }
                let value: V = codec::decode_limited(&bytes, limit)?;
                Some(Pending::new(value))
            },
        })
    }
}

impl<R> Codec<R> {
    /// The result an entry holds: a value (or cached `None`), else a cached `Err`. `None` for an
    /// entry of another type (a 128-bit collision).
    #[inline]
    pub(crate) fn load(&self, entry: &Entry) -> Option<R> {
        match (self.load)(entry) {
            Some(result) => Some(result),
            None => self.load_error.and_then(|load| load(entry)),
        }
    }

    /// Whether values of this function can go to a shared store.
    pub(crate) fn shared_enabled(&self) -> bool {
        self.shared.is_some()
    }
}

impl<R> Clone for Codec<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for Codec<R> {}

/// What an entry holds, which decides its TTL (and whether it may be shared).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    /// A value: the function's TTL.
    Value,
    /// A cached `None` (`cache_none`): `none_ttl`.
    Nothing,
    /// A cached `Err` (`cache_err`): `err_ttl`, in memory only.
    Error,
}

impl Stored {
    /// A value, or a cached `None` when there is none.
    pub(crate) fn value_or_nothing<T>(value: Option<T>) -> Stored {
        if value.is_some() {
            Stored::Value
        } else {
            Stored::Nothing
        }
    }
}

/// What the return-type policy and the function's rules make of one result.
pub(crate) enum Decision {
    Store {
        value: Pending,
        size: usize,
        stored: Stored,
    },
    Error,
    NotCached,
}

#[inline]
fn load<P: Policy<R>, R>(entry: &Entry) -> Option<R>
where
    P::Value: Clone + 'static,
{
    match entry.value.downcast_ref::<P::Value>() {
        Some(value) => P::rebuild(Some(value.clone())),
        None if entry.value.is::<Nothing>() => P::rebuild(None),
        None => P::rebuild(Some(count_as::<P::Value>(entry)?)),
    }
}

/// An integer counter (`increment`/`decrement`): the one kind of entry whose value changes in
/// place. Read as an `i64`, like an integer stored with `put`.
pub(crate) struct CounterCell(AtomicI64);

impl CounterCell {
    pub(crate) fn new(count: i64) -> CounterCell {
        CounterCell(AtomicI64::new(count))
    }

    pub(crate) fn count(&self) -> i64 {
        self.0.load(SeqCst)
    }

    /// Adds `by` and returns the new count; an addition that would overflow changes nothing
    /// (as Redis's `INCRBY` refuses it).
    pub(crate) fn add(&self, by: i64) -> i64 {
        match self
            .0
            .fetch_update(SeqCst, SeqCst, |count| count.checked_add(by))
        {
            Ok(before) => before.wrapping_add(by),
            Err(unchanged) => unchanged,
        }
    }

    /// Sets the count (a copy of the shared tier's).
    pub(crate) fn set(&self, count: i64) {
        self.0.store(count, SeqCst);
    }
}

/// A counter's count, if `entry` holds one and `V` is `i64`.
fn count_as<V: Clone + 'static>(entry: &Entry) -> Option<V> {
    let count = entry.value.downcast_ref::<CounterCell>()?.count();
    (&count as &dyn Any).downcast_ref::<V>().cloned()
}

fn accepts<V: 'static>(value: &(dyn Any + Send + Sync)) -> bool {
    value.is::<V>()
}

fn decide<P: Policy<R>, R>(result: &R, cache_none: bool, size: fn(&P::Value) -> usize) -> Decision
where
    P::Value: Clone + Send + Sync + 'static,
{
    match P::inspect(result) {
        Outcome::Value(value) => Decision::Store {
            size: size(value),
            value: Pending::new(value.clone()),
            stored: Stored::Value,
        },
        Outcome::Nothing if cache_none => Decision::Store {
            value: Pending::nothing(),
            size: 0,
            stored: Stored::Nothing,
        },
        Outcome::Nothing => Decision::NotCached,
        Outcome::Error => Decision::Error,
    }
}

fn store_serde<P: Policy<R>, R>(result: &R, cache_none: bool) -> Decision
where
    P::Value: CacheValue,
{
    decide::<P, R>(result, cache_none, |value| {
        codec::encoded_len(value).unwrap_or(std::mem::size_of::<P::Value>())
    })
}

fn store_local<P: Policy<R>, R>(result: &R, cache_none: bool) -> Decision
where
    P::Value: LocalValue,
{
    decide::<P, R>(result, cache_none, |_| std::mem::size_of::<P::Value>())
}
/// How a function whose values are serializable stores them. The value bounds are checked
/// here and only here: generated code spans this call at the return type.
pub(crate) fn codec<P: Policy<R>, R>() -> Codec<R>
where
    P::Value: CacheValue,
{
    Codec {
        load: load::<P, R>,
        accepts: accepts::<P::Value>,
        store: store_serde::<P, R>,
        store_error: None,
        load_error: None,
        shared: SharedCodec::of::<P::Value>(),
    }
}

/// How a `local` function (values kept in memory only) stores them.
pub(crate) fn codec_local<P: Policy<R>, R>() -> Codec<R>
where
    P::Value: LocalValue,
{
    Codec {
        load: load::<P, R>,
        accepts: accepts::<P::Value>,
        store: store_local::<P, R>,
        store_error: None,
        load_error: None,
        shared: None,
    }
}

/// How a function whose values are serializable stores them, as generated code asks for it: the
/// value bounds checked with the call site's marker `M` (see `bounds`), so a failed bound is
/// one error that suggests no internal trait.
pub fn codec_for<P: Policy<R>, R, M>(instance: M) -> Codec<R>
where
    P::Value: CacheValue<M>,
{
    let _ = instance;
    codec::<P, R>()
}

/// How a `local` function stores its values, as generated code asks for it (see
/// [`codec_for`]).
pub fn codec_local_for<P: Policy<R>, R, M>(instance: M) -> Codec<R>
where
    P::Value: LocalValue<M>,
{
    let _ = instance;
    codec_local::<P, R>()
}

/// `codec` (or `codec_local`, with `local`) for a function that also caches chosen errors
/// (`cache_err`): the error type's bounds are checked here, spanned at the return type.
pub fn caching_errors<R: ResultType>(codec: Codec<R>) -> Codec<R>
where
    R::Err: CacheError,
{
    Codec {
        load_error: Some(|entry| {
            let CachedErr(error) = entry.value.downcast_ref::<CachedErr<R::Err>>()?;
            Some(R::from_error(error.clone()))
        }),
        store_error: Some(|result| match result.error() {
            Some(error) => Decision::Store {
                value: Pending::new(CachedErr(error.clone())),
                size: std::mem::size_of::<R::Err>(),
                stored: Stored::Error,
            },
            None => Decision::NotCached,
        }),
        ..codec
    }
}
