//! Type parameters with bounds and `where` clauses, const generics, and methods of a generic
//! impl: the per-function `static` never mentions the generics.
#![allow(dead_code)]

use cached_query::cached_query;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Display;

#[cached_query]
async fn inline_bounds<T: Serialize + Display>(value: T) -> String {
    value.to_string()
}

#[cached_query]
async fn where_clause<K, V>(key: K, default: V) -> Option<V>
where
    K: Serialize + Send,
    V: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    let _ = key;
    Some(default)
}

#[cached_query]
async fn only_in_return<T>() -> Vec<T>
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    Vec::new()
}

#[cached_query]
async fn const_generic<const N: usize>(x: u8) -> usize {
    N + usize::from(x)
}

#[cached_query(local)]
async fn mixed<
    'a,
    T: Serialize + ?Sized,
    U: Serialize + Clone + Send + Sync + 'static,
    const N: usize,
>(
    key: &'a T,
    value: U,
) -> [Option<U>; 1] {
    let _ = key;
    let _ = N;
    [Some(value)]
}

#[derive(Serialize)]
struct Wrapper<T>(T);

impl<T> Wrapper<T>
where
    T: Serialize + Display,
{
    #[cached_query]
    async fn show(&self) -> String {
        self.0.to_string()
    }

    #[cached_query(skip(self))]
    async fn with_method_generic<U: Serialize>(&self, other: U) -> String {
        let _ = other;
        self.0.to_string()
    }

    #[cached_query]
    async fn new_label(value: T) -> String {
        value.to_string()
    }
}

struct Fixed<const N: usize>;

impl<const N: usize> Fixed<N> {
    #[cached_query(skip(self))]
    async fn size(&self) -> usize {
        N
    }
}

fn main() {}
