//! What a batch function is made of, as generated code proves it: the batch parameter (a
//! collection of keys, [`BatchOf`]), the map it returns ([`BatchPolicy`], [`BatchCodec`]), and
//! the items taken out of the parameter ([`BatchItems`]). The engine's side is
//! `engine/batch/`.

use crate::bounds::KeyArg;
use crate::key::BatchKeys;
use crate::policy::{ResultPolicy, ValuePolicy};
use crate::value::Codec;
use std::collections::{BTreeSet, HashSet, VecDeque};
use std::hash::{BuildHasher, Hash};

/// A collection of keys a `#[cached_query(batch)]` function can take as its batch: it gives its
/// items up, and [`Owned`](Self::Owned) is what the body's share of them is collected into (the
/// collection itself, or for a borrowed one the owned collection it is borrowed from).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the batch of a `#[cached_query(batch)]` function whose map is keyed by `{K}`",
    label = "the batch parameter",
    note = "the batch is a collection of the returned map's keys: `Vec<{K}>`, `&[{K}]`, `HashSet<{K}>` or `BTreeSet<{K}>` (also `VecDeque<{K}>`, `Box<[{K}]>`, and a reference to any of them)"
)]
pub trait BatchOf<K> {
    /// What the items the body computes are collected into.
    type Owned: FromIterator<K>;
    /// The items, owned (cloned out of a borrowed collection).
    fn into_keys(self) -> Vec<K>;
}

#[diagnostic::do_not_recommend]
impl<K> BatchOf<K> for Vec<K> {
    type Owned = Vec<K>;
    fn into_keys(self) -> Vec<K> {
        self
    }
}

#[diagnostic::do_not_recommend]
impl<K> BatchOf<K> for VecDeque<K> {
    type Owned = VecDeque<K>;
    fn into_keys(self) -> Vec<K> {
        self.into()
    }
}

#[diagnostic::do_not_recommend]
impl<K> BatchOf<K> for Box<[K]> {
    type Owned = Box<[K]>;
    fn into_keys(self) -> Vec<K> {
        self.into_vec()
    }
}

#[diagnostic::do_not_recommend]
impl<K: Eq + Hash, S: BuildHasher + Default> BatchOf<K> for HashSet<K, S> {
    type Owned = HashSet<K, S>;
    fn into_keys(self) -> Vec<K> {
        self.into_iter().collect()
    }
}

#[diagnostic::do_not_recommend]
impl<K: Ord> BatchOf<K> for BTreeSet<K> {
    type Owned = BTreeSet<K>;
    fn into_keys(self) -> Vec<K> {
        self.into_iter().collect()
    }
}

#[diagnostic::do_not_recommend]
impl<K: Clone> BatchOf<K> for &[K] {
    type Owned = Vec<K>;
    fn into_keys(self) -> Vec<K> {
        self.to_vec()
    }
}

/// `&Vec<K>`, `&HashSet<K>`…: the items cloned out, the body's share collected into the same
/// collection (and borrowed from it).
macro_rules! borrowed_batch {
    ($($collection:ty => [$($bounds:tt)*]),* $(,)?) => {$(
        #[diagnostic::do_not_recommend]
        impl<'a, $($bounds)*> BatchOf<K> for &'a $collection
        where
            $collection: BatchOf<K>,
        {
            type Owned = <$collection as BatchOf<K>>::Owned;
            fn into_keys(self) -> Vec<K> {
                self.iter().cloned().collect()
            }
        }
    )*};
}

borrowed_batch! {
    Vec<K> => [K: Clone],
    VecDeque<K> => [K: Clone],
    Box<[K]> => [K: Clone],
    HashSet<K, S> => [K: Clone + Eq + Hash, S: BuildHasher + Default],
    BTreeSet<K> => [K: Clone + Ord],
}

/// The items of one batch call, taken out of its parameter where their bounds are proven.
pub struct BatchItems<K, C> {
    pub(crate) items: Vec<K>,
    /// An item's key (see [`BatchKeys`]), built where `K: Serialize` is known.
    pub(crate) key_of: fn(&BatchKeys, &K) -> Option<u128>,
    /// The body's share of the items, as the collection it takes (built where
    /// `C: FromIterator<K>` is known, so that it is checked once, with the batch's bound).
    pub(crate) collect: fn(Vec<K>) -> C,
}

/// The items of a batch parameter, as generated code takes them: the collection's bounds and
/// the item's key bound, checked at the parameter's type.
pub fn batch_items<K, B, M>(batch: B, instance: M) -> BatchItems<K, B::Owned>
where
    B: BatchOf<K>,
    K: KeyArg<M>,
{
    let _ = instance;
    BatchItems {
        items: batch.into_keys(),
        key_of: |keys, item| keys.key_of(item),
        collect: |items| items.into_iter().collect(),
    }
}

/// How a batch function's return type holds its map: `Result<Map, E>` ([`ResultPolicy`]) or
/// the map itself ([`ValuePolicy`]).
#[diagnostic::on_unimplemented(
    message = "`#[cached_query(batch)]` cannot read `{R}` as a map of items to values",
    note = "a batch function returns `HashMap<K, V>` or `BTreeMap<K, V>`, optionally inside a `Result`"
)]
pub trait BatchPolicy<R> {
    /// The map from items to values.
    type Map;
    /// The map, or the whole result when it holds an error.
    fn split(result: R) -> Result<Self::Map, R>;
    /// The result holding `map`.
    fn wrap(map: Self::Map) -> R;
}

impl<M, E> BatchPolicy<Result<M, E>> for ResultPolicy {
    type Map = M;
    fn split(result: Result<M, E>) -> Result<M, Result<M, E>> {
        match result {
            Ok(map) => Ok(map),
            Err(error) => Err(Err(error)),
        }
    }
    fn wrap(map: M) -> Result<M, E> {
        Ok(map)
    }
}

impl<M> BatchPolicy<M> for ValuePolicy {
    type Map = M;
    fn split(result: M) -> Result<M, M> {
        Ok(result)
    }
    fn wrap(map: M) -> M {
        map
    }
}

/// How one batch function moves its results in and out of the cache: each item's value as an
/// entry of its own (an `Option<V>`: `None` is an item the body did not return), and the
/// function's result to and from the pairs it is made of.
pub struct BatchCodec<R, K, V> {
    pub(crate) item: Codec<Option<V>>,
    /// The pairs of a result, or the result itself when it is an error.
    pub(crate) split: Split<R, K, V>,
    /// The result holding these pairs.
    pub(crate) wrap: fn(Vec<(K, V)>) -> R,
}

/// The pairs of a batch function's result, or the result itself when it is an error.
pub(crate) type Split<R, K, V> = fn(R) -> Result<Vec<(K, V)>, R>;

impl<R, K, V> Clone for BatchCodec<R, K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R, K, V> Copy for BatchCodec<R, K, V> {}

/// The codec of a batch function whose return type `R` holds its map as policy `P` says; `item`
/// is the codec of one item's value (whose bounds are checked where it is built).
pub fn batch_codec_for<P, R, K, V>(item: Codec<Option<V>>) -> BatchCodec<R, K, V>
where
    P: BatchPolicy<R>,
    P::Map: FromIterator<(K, V)> + IntoIterator<Item = (K, V)>,
{
    BatchCodec {
        item,
        split: |result| P::split(result).map(|map| map.into_iter().collect()),
        wrap: |pairs| P::wrap(pairs.into_iter().collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn every_supported_batch_gives_its_items_and_collects_a_share() {
        assert_eq!(vec![1u8, 2].into_keys(), vec![1, 2]);
        assert_eq!(BatchOf::<u8>::into_keys(&[3u8, 4][..]), vec![3, 4]);
        let borrowed: &Vec<u8> = &vec![5];
        assert_eq!(<&Vec<u8> as BatchOf<u8>>::into_keys(borrowed), vec![5]);
        assert_eq!(BTreeSet::from([7u8, 6]).into_keys(), vec![6, 7]);
        let owned: <&[u8] as BatchOf<u8>>::Owned = [1u8, 2].into_iter().collect();
        assert_eq!(owned, vec![1, 2]);
    }

    #[test]
    fn a_result_of_a_map_splits_into_its_pairs_or_its_error() {
        let split = <ResultPolicy as BatchPolicy<Result<BTreeMap<u8, u8>, String>>>::split;
        assert_eq!(
            split(Ok(BTreeMap::from([(1, 2)]))),
            Ok(BTreeMap::from([(1, 2)]))
        );
        assert_eq!(split(Err("down".into())), Err(Err("down".into())));
    }
}
