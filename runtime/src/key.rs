//! Keys: a call's identity, its arguments encoded on the stack ([`KeyBytes`]) and hashed to
//! 128 bits with a hash seeded by the function's identity.

use crate::bounds::{KeyArg, KeyReceiver};
use crate::function::FunctionState;
use crate::key_bytes::KeyBytes;
pub(crate) use crate::key_bytes::REUSED_BUFFER_LIMIT;
use crate::key_hash::{self, Keying};
use crate::site::Site;
use serde::Serialize;
use std::cell::Cell;
use std::marker::PhantomData;

thread_local! {
    pub(crate) static TAG_BUFFER: Cell<String> = const { Cell::new(String::new()) };
}

/// The identity of one call: its function and the 128-bit hash of its arguments.
pub struct Key {
    pub(crate) function: &'static FunctionState,
    /// `None`: an argument failed to encode; the call runs uncached.
    pub(crate) hash: Option<u128>,
    /// The function's `condition` excluded this call: it runs uncached.
    pub(crate) skip: bool,
}

/// Encodes a call's identity: instantiation digest (generic bodies only) ‖ arguments, hashed
/// with a hash the function's identity seeds.
///
/// `M` marks the call site (the type of a closure or fn item declared in the function's body).
/// The argument bounds name it, so a bound rustc cannot prove is reported with our wording and
/// without a suggestion to add an internal trait to the user's generics (see `bounds`).
pub struct KeyBuilder<M> {
    function: &'static FunctionState,
    keying: Keying,
    bytes: KeyBytes,
    failed: bool,
    skip: bool,
    marker: PhantomData<fn() -> M>,
}

impl<I: Fn()> KeyBuilder<I> {
    /// Starts the key of a call to the function whose body declares `id` (hand-made sites: the
    /// manual API, benchmarks). Its path is the function's identity; nothing else is folded in.
    pub fn new(site: &'static Site, id: I) -> KeyBuilder<I> {
        let _ = id;
        let function = site.function::<I>(None);
        KeyBuilder::start(function, Keying::of(function))
    }
}

impl<M: Fn()> KeyBuilder<M> {
    /// Starts the key of a call to the function whose body declares the marker fn `id` and the
    /// closure `instance`. When the closure's name says the body is instantiated (generic
    /// arguments, the implementing type of a trait default body), that name's digest is folded
    /// into the hash's keying, so two instantiations never share an entry; otherwise the key is
    /// the function's identity and the arguments alone, as for [`new`](KeyBuilder::new).
    #[inline]
    pub fn with_instance<I: Fn()>(site: &'static Site, id: I, instance: M) -> KeyBuilder<M> {
        let _ = (id, instance);
        let name = std::any::type_name::<M>();
        let function = site.function::<I>(Some(name));
        let keying = match &function.instantiation {
            Some(first) => Keying::instance(function, first.digest_of(name)),
            None => Keying::of(function),
        };
        KeyBuilder::start(function, keying)
    }
}

impl<M> KeyBuilder<M> {
    /// Built in one expression, with no call taking the builder by reference: the caller then
    /// builds it where it keeps it, instead of moving its inline bytes around.
    #[inline]
    fn start(function: &'static FunctionState, keying: Keying) -> KeyBuilder<M> {
        KeyBuilder {
            function,
            keying,
            bytes: KeyBytes::new(),
            failed: false,
            skip: false,
            marker: PhantomData,
        }
    }

    #[inline]
    fn encode<T: Serialize + ?Sized>(&mut self, value: &T) {
        if self.bytes.encode(value).is_err() {
            self.failed = true;
        }
    }

    /// Adds an argument. Inlined, as its steps are: a call here made the caller move the
    /// whole builder (its inline bytes) to pass it, and back.
    #[inline(always)]
    pub fn arg<T: KeyArg<M> + ?Sized>(&mut self, value: &T) {
        self.encode(value);
    }

    /// Adds the receiver (inlined, as [`arg`](Self::arg)).
    #[inline(always)]
    pub fn receiver<T: KeyReceiver<M> + ?Sized>(&mut self, value: &T) {
        self.encode(value);
    }

    /// Marks the call as excluded by the function's `condition`: it runs uncached.
    pub fn skip_cache(&mut self) {
        self.skip = true;
    }

    /// The key: the bytes hashed to 128 bits keyed by the function's identity (see
    /// [`key_hash`]). Always inlined: a builder passed to a call is
    /// copied first (its inline bytes), and the copy's loads stall on the argument just stored.
    #[inline(always)]
    pub fn finish(&mut self) -> Key {
        let function = self.function;
        let hash = (!self.failed).then(|| key_hash::of_key(self.keying, &self.bytes));
        self.bytes.recycle();
        Key {
            function,
            hash,
            skip: self.skip,
        }
    }
}

/// Encodes the part of a batch call's keys its items share: the instantiation digest, the
/// receiver and the other key arguments in parameter order, and where the item goes
/// ([`item_here`](Self::item_here), at the batch parameter's place). Each item's key is then
/// that of the same function called with a one-item batch: the item is encoded as a
/// one-element sequence, as a `Vec`, a slice or a set of one element encodes.
pub struct BatchKeyBuilder<M> {
    key: KeyBuilder<M>,
    /// Where the item's bytes go; `None` until [`item_here`](Self::item_here).
    item_at: Option<usize>,
}

impl<M: Fn()> BatchKeyBuilder<M> {
    /// Starts the keys of a batch call, like [`KeyBuilder::with_instance`].
    #[inline]
    pub fn with_instance<I: Fn()>(site: &'static Site, id: I, instance: M) -> BatchKeyBuilder<M> {
        BatchKeyBuilder {
            key: KeyBuilder::with_instance(site, id, instance),
            item_at: None,
        }
    }
}

impl<M> BatchKeyBuilder<M> {
    /// Adds an argument.
    pub fn arg<T: KeyArg<M> + ?Sized>(&mut self, value: &T) {
        self.key.arg(value);
    }

    /// Adds the receiver.
    pub fn receiver<T: KeyReceiver<M> + ?Sized>(&mut self, value: &T) {
        self.key.receiver(value);
    }

    /// Marks the batch parameter's place: each item is encoded here.
    pub fn item_here(&mut self) {
        self.item_at = Some(self.key.bytes.position());
    }

    /// Marks the call as excluded by the function's `condition`: it runs uncached.
    pub fn skip_cache(&mut self) {
        self.key.skip_cache();
    }

    /// What every item's key starts and ends with.
    pub fn finish(self) -> BatchKeys {
        let KeyBuilder {
            function,
            keying,
            mut bytes,
            failed,
            skip,
            ..
        } = self.key;
        let all = bytes.as_slice();
        let at = self.item_at.unwrap_or(all.len()).min(all.len());
        let (prefix, suffix) = all.split_at(at);
        let keys = BatchKeys {
            function,
            keying,
            prefix: prefix.into(),
            suffix: suffix.into(),
            failed,
            skip,
        };
        bytes.recycle();
        keys
    }
}

/// The shared part of a batch call's keys (see [`BatchKeyBuilder`]).
pub struct BatchKeys {
    pub(crate) function: &'static FunctionState,
    keying: Keying,
    prefix: Box<[u8]>,
    suffix: Box<[u8]>,
    /// An argument failed to encode: the call runs uncached.
    pub(crate) failed: bool,
    /// The function's `condition` excluded this call: it runs uncached.
    pub(crate) skip: bool,
}

impl BatchKeys {
    /// The key of `item`: the function called with `[item]`. `None` if it fails to encode.
    #[inline]
    pub(crate) fn key_of<K: Serialize>(&self, item: &K) -> Option<u128> {
        let mut bytes = KeyBytes::new();
        bytes.push(&self.prefix);
        let encoded = bytes.encode(std::slice::from_ref(item));
        bytes.push(&self.suffix);
        let hash = encoded.ok().map(|()| key_hash::of_key(self.keying, &bytes));
        bytes.recycle();
        hash
    }

    /// Which calls may be merged into one body call: those whose other key arguments (and
    /// instantiation) are the same, so that one call's body computes every item alike.
    pub(crate) fn group(&self) -> u128 {
        let mut bytes = Vec::with_capacity(self.prefix.len() + self.suffix.len() + 8);
        bytes.extend_from_slice(&(self.prefix.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&self.prefix);
        bytes.extend_from_slice(&self.suffix);
        key_hash::of_bytes(self.keying, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::SiteConfig;

    /// The key of `x` for a non-generic function, built as hand-made sites do (`new`) or as
    /// generated code does (`with_instance`).
    fn plain_key(x: u32, with_instance: bool) -> Option<u128> {
        static BY_NEW: Site = Site::new(SiteConfig::DEFAULT);
        static BY_INSTANCE: Site = Site::new(SiteConfig::DEFAULT);
        fn __cq_id() {}
        if with_instance {
            let mut key = KeyBuilder::with_instance(&BY_INSTANCE, __cq_id, || {});
            key.arg(&x);
            key.finish().hash
        } else {
            let mut key = KeyBuilder::new(&BY_NEW, __cq_id);
            key.arg(&x);
            key.finish().hash
        }
    }

    /// `T` is only in the key's instantiation: the arguments are the same for every `T`.
    #[allow(clippy::extra_unused_type_parameters)]
    fn generic_key<T>(x: u32) -> Option<u128> {
        static SITE: Site = Site::new(SiteConfig::DEFAULT);
        fn __cq_id() {}
        let mut key = KeyBuilder::with_instance(&SITE, __cq_id, || {});
        key.arg(&x);
        key.finish().hash
    }

    /// An item's key is the key of the same call with a one-element collection in the batch
    /// parameter's place, the other arguments around it in parameter order.
    #[test]
    fn an_items_key_is_the_key_of_a_one_item_batch() {
        static SITE: Site = Site::new(SiteConfig::DEFAULT);
        fn __cq_id() {}
        type Ids<'a> = &'a dyn Fn(&mut KeyBuilder<fn()>);
        let single = |ids: Ids<'_>| {
            let mut key = KeyBuilder::with_instance(&SITE, __cq_id, __cq_id as fn());
            key.arg("eu");
            ids(&mut key);
            key.arg(&7u8);
            key.finish().hash
        };
        let mut batch = BatchKeyBuilder::with_instance(&SITE, __cq_id, __cq_id as fn());
        batch.arg("eu");
        batch.item_here();
        batch.arg(&7u8);
        let keys = batch.finish();
        let expected = single(&|key| key.arg(&vec![42u64]));
        assert!(expected.is_some());
        assert_eq!(keys.key_of(&42u64), expected);
        assert_eq!(
            keys.key_of(&42u64),
            single(&|key| key.arg(&std::collections::BTreeSet::from([42u64])))
        );
        assert_ne!(keys.key_of(&43u64), expected);
        assert_ne!(
            keys.key_of(&42u64),
            single(&|key| key.arg(&vec![42u64, 43]))
        );
    }

    #[test]
    fn batches_with_other_arguments_are_other_groups() {
        static SITE: Site = Site::new(SiteConfig::DEFAULT);
        fn __cq_id() {}
        let group = |region: &str| {
            let mut batch = BatchKeyBuilder::with_instance(&SITE, __cq_id, __cq_id as fn());
            batch.arg(region);
            batch.item_here();
            batch.finish().group()
        };
        assert_eq!(group("eu"), group("eu"));
        assert_ne!(group("eu"), group("us"));
    }

    #[test]
    fn a_non_generic_function_keys_on_its_seed_and_arguments_alone() {
        assert!(plain_key(7, true).is_some());
        assert_eq!(plain_key(7, true), plain_key(7, false));
        assert_ne!(plain_key(7, true), plain_key(8, true));
    }

    #[test]
    fn each_instantiation_of_a_generic_body_has_its_own_keys() {
        assert_ne!(generic_key::<u8>(1), generic_key::<u16>(1));
        assert_eq!(generic_key::<u8>(1), generic_key::<u8>(1));
        assert_ne!(generic_key::<u8>(1), generic_key::<u8>(2));
    }
}
