//! Durations that could be read two ways are refused with the spelling that means one thing.

use cached_query::cached_query;

#[cached_query(ttl = 60u64)]
pub async fn type_suffix(id: u64) -> u64 {
    id
}

#[cached_query(ttl = 1.5h)]
pub async fn fraction_of_a_unit(id: u64) -> u64 {
    id
}

#[cached_query(min_compute = 0.5)]
pub async fn fraction_of_a_second(id: u64) -> u64 {
    id
}

#[cached_query(ttl)]
pub async fn no_value(id: u64) -> u64 {
    id
}

fn main() {}
