//! Bounds a generic parameter misses: our wording, and no suggestion to add an internal trait
//! (or `serde_core::...`, which the user's crate cannot name) to the user's generics.

use cached_query::cached_query;
use std::fmt::Display;

#[cached_query]
pub async fn keyed_by<T: Clone>(value: T) -> u64 {
    let _ = value;
    1
}

#[cached_query]
pub async fn keyed_by_impl(value: impl Display) -> String {
    value.to_string()
}

#[cached_query]
pub async fn returns_generic<T: Clone>(id: u64) -> T {
    let _ = id;
    todo!()
}

fn main() {}
