//! Borrowed arguments: `&str`, slices, references to structs, explicit lifetimes.
#![allow(dead_code)]

use cached_query::cached_query;
use serde::Serialize;

#[derive(Serialize)]
struct Filter {
    name: String,
    limit: u32,
}

#[cached_query]
async fn by_str(name: &str) -> String {
    name.to_uppercase()
}

#[cached_query]
async fn by_slice(ids: &[u64]) -> u64 {
    ids.iter().sum()
}

#[cached_query]
async fn by_generic_slice<T: Serialize + Clone>(items: &[T]) -> usize {
    items.len()
}

#[cached_query]
async fn by_struct(filter: &Filter) -> Vec<String> {
    vec![filter.name.clone(); filter.limit as usize]
}

#[cached_query]
async fn by_mut_ref(count: &mut u32) -> u32 {
    *count += 1;
    *count
}

#[cached_query]
async fn with_lifetimes<'a, 'b: 'a>(first: &'a str, second: &'b str) -> String {
    format!("{first}{second}")
}

#[cached_query]
async fn nested_refs(filter: &&Filter, names: &[&str]) -> String {
    format!("{}{}", filter.name, names.concat())
}

#[cached_query]
async fn static_str(name: &'static str) -> String {
    name.to_owned()
}

fn main() {}
