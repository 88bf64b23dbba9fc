//! What a value kept in memory weighs: its own bytes plus what it owns on the heap, so that the
//! store's byte bound holds for values that never go through a serializer (`local` functions,
//! cached errors). Generated code probes each such type once, on a miss, by autoref
//! specialisation: `(&&&WeighProbe::<P, R>::new()).weigher()` is the [`Weigh`] impl when the
//! type has one, else its encoded size when it is `Serialize`, else nothing (the entry is then
//! charged `size_of` alone, which undercounts heap-owning types: implement [`Weigh`] for them).

use crate::bounds::ResultType;
use crate::codec;
use crate::policy::{CachedErr, Policy};
use serde::Serialize;
use std::any::Any;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

/// The heap bytes a value owns, for the store's byte bound (its inline size is counted apart).
///
/// Implemented for the standard containers and strings. Implement it for a type that a `local`
/// function returns (or a cached error) when it owns heap memory; values that go through the
/// shared tier are weighed by their encoded size instead.
///
/// ```
/// use cached_query_runtime::Weigh;
///
/// #[derive(Clone)]
/// struct Page {
///     title: String,
///     rows: Vec<Vec<u8>>,
/// }
///
/// impl Weigh for Page {
///     fn heap_bytes(&self) -> usize {
///         self.title.heap_bytes() + self.rows.heap_bytes()
///     }
/// }
///
/// let page = Page { title: "t".repeat(10), rows: vec![vec![0; 100]; 3] };
/// assert!(page.heap_bytes() >= 10 + 300);
/// ```
pub trait Weigh {
    /// Bytes owned on the heap (for containers: their capacity, and their elements' heap bytes).
    fn heap_bytes(&self) -> usize;
}

macro_rules! owns_nothing {
    ($($ty:ty),* $(,)?) => {
        $(impl Weigh for $ty {
            #[inline]
            fn heap_bytes(&self) -> usize {
                0
            }
        })*
    };
}

owns_nothing!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    &'static str
);

impl Weigh for String {
    fn heap_bytes(&self) -> usize {
        self.capacity()
    }
}

impl<T: Weigh> Weigh for Vec<T> {
    fn heap_bytes(&self) -> usize {
        self.capacity() * std::mem::size_of::<T>()
            + self.iter().map(Weigh::heap_bytes).sum::<usize>()
    }
}

impl<T: Weigh> Weigh for VecDeque<T> {
    fn heap_bytes(&self) -> usize {
        self.capacity() * std::mem::size_of::<T>()
            + self.iter().map(Weigh::heap_bytes).sum::<usize>()
    }
}

impl<T: Weigh> Weigh for [T] {
    fn heap_bytes(&self) -> usize {
        self.iter().map(Weigh::heap_bytes).sum()
    }
}

impl Weigh for str {
    fn heap_bytes(&self) -> usize {
        0
    }
}

impl<T: Weigh, const N: usize> Weigh for [T; N] {
    fn heap_bytes(&self) -> usize {
        self.iter().map(Weigh::heap_bytes).sum()
    }
}

impl<T: Weigh> Weigh for Option<T> {
    fn heap_bytes(&self) -> usize {
        self.as_ref().map_or(0, Weigh::heap_bytes)
    }
}

impl<T: Weigh, E: Weigh> Weigh for Result<T, E> {
    fn heap_bytes(&self) -> usize {
        match self {
            Ok(value) => value.heap_bytes(),
            Err(error) => error.heap_bytes(),
        }
    }
}

/// Boxed, counted shared and reference-counted values are charged in full to each holder: an
/// overestimate for shared data, never an underestimate.
macro_rules! owns_pointee {
    ($($ptr:ident),*) => {
        $(impl<T: Weigh + ?Sized> Weigh for $ptr<T> {
            fn heap_bytes(&self) -> usize {
                std::mem::size_of_val(&**self) + (**self).heap_bytes()
            }
        })*
    };
}

owns_pointee!(Box, Arc, Rc);

/// Per-element bookkeeping of the hash containers (control byte, load factor) and of the B-tree
/// ones (node headers, spare slots): an estimate, erring high.
const HASH_SLOT_OVERHEAD: usize = 2;
const TREE_SLOT_OVERHEAD: usize = 16;

impl<K: Weigh, V: Weigh, S> Weigh for HashMap<K, V, S> {
    fn heap_bytes(&self) -> usize {
        self.capacity() * (std::mem::size_of::<(K, V)>() + HASH_SLOT_OVERHEAD)
            + self
                .iter()
                .map(|(k, v)| k.heap_bytes() + v.heap_bytes())
                .sum::<usize>()
    }
}

impl<T: Weigh, S> Weigh for HashSet<T, S> {
    fn heap_bytes(&self) -> usize {
        self.capacity() * (std::mem::size_of::<T>() + HASH_SLOT_OVERHEAD)
            + self.iter().map(Weigh::heap_bytes).sum::<usize>()
    }
}

impl<K: Weigh, V: Weigh> Weigh for BTreeMap<K, V> {
    fn heap_bytes(&self) -> usize {
        self.len() * (std::mem::size_of::<(K, V)>() + TREE_SLOT_OVERHEAD)
            + self
                .iter()
                .map(|(k, v)| k.heap_bytes() + v.heap_bytes())
                .sum::<usize>()
    }
}

impl<T: Weigh> Weigh for BTreeSet<T> {
    fn heap_bytes(&self) -> usize {
        self.len() * (std::mem::size_of::<T>() + TREE_SLOT_OVERHEAD)
            + self.iter().map(Weigh::heap_bytes).sum::<usize>()
    }
}

macro_rules! tuples {
    ($(($($name:ident),+)),*) => {
        $(impl<$($name: Weigh),+> Weigh for ($($name,)+) {
            #[allow(non_snake_case)]
            fn heap_bytes(&self) -> usize {
                let ($($name,)+) = self;
                0 $(+ $name.heap_bytes())+
            }
        })*
    };
}

tuples!(
    (A),
    (A, B),
    (A, B, C),
    (A, B, C, D),
    (A, B, C, D, E),
    (A, B, C, D, E, F)
);

// ---------------------------------------------------------------------------------------------
// The probe generated code calls.

/// The bytes of a stored value (given type-erased: the entry holds it so): inline and heap.
pub type Weigher = fn(&(dyn Any + Send + Sync)) -> usize;

/// Autoref specialisation over a stored type `V`: `(&&&WeighProbe::<V>::new()).weigher()`.
pub struct WeighProbe<V: ?Sized>(PhantomData<fn() -> PhantomData<V>>);

impl<V: ?Sized> WeighProbe<V> {
    /// The probe.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        WeighProbe(PhantomData)
    }
}

/// The probe of the values a function with policy `P` and return type `R` stores.
pub type ValueProbe<P, R> = WeighProbe<<P as Policy<R>>::Value>;
/// The probe of the errors a function returning `R` caches (`cache_err`), as they are stored.
pub type ErrorProbe<R> = WeighProbe<CachedErr<<R as ResultType>::Err>>;

/// Chosen when `V: Weigh`.
pub trait WeighByTrait {
    /// Its `size_of` plus its [`Weigh::heap_bytes`].
    fn weigher(self) -> Option<Weigher>;
}

impl<V: Weigh + Any + Send + Sync> WeighByTrait for &&&WeighProbe<V> {
    fn weigher(self) -> Option<Weigher> {
        Some(|value| {
            std::mem::size_of::<V>() + value.downcast_ref::<V>().map_or(0, Weigh::heap_bytes)
        })
    }
}

/// Chosen when `V: Serialize` (and not [`Weigh`]).
pub trait WeighByEncoding {
    /// Its `size_of` plus its encoded size (what its heap parts hold, about).
    fn weigher(self) -> Option<Weigher>;
}

impl<V: Serialize + Any + Send + Sync> WeighByEncoding for &&WeighProbe<V> {
    fn weigher(self) -> Option<Weigher> {
        Some(|value| {
            std::mem::size_of::<V>()
                + value
                    .downcast_ref::<V>()
                    .and_then(codec::encoded_len)
                    .unwrap_or(0)
        })
    }
}

/// The fallback: the entry is charged the value's `size_of`.
pub trait WeighBySize {
    /// `None`: no better estimate than `size_of`.
    fn weigher(self) -> Option<Weigher>;
}

impl<V: ?Sized> WeighBySize for &WeighProbe<V> {
    fn weigher(self) -> Option<Weigher> {
        None
    }
}
