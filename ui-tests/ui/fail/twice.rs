//! One caching attribute per function: the second is the error.

use cached_query::{cache_invalidate, cached_query};

#[cached_query(ttl = 60)]
#[cached_query(ttl = 120)]
pub async fn cached_twice(id: u64) -> u64 {
    id
}

#[cached_query]
#[cached_query::cached_query]
pub async fn cached_twice_by_path(id: u64) -> u64 {
    id
}

#[cached_query]
#[cache_invalidate(tags = ["users"])]
pub async fn cached_and_invalidating(id: u64) -> u64 {
    id
}

#[cache_invalidate(tags = ["users"])]
#[cached_query]
pub async fn invalidating_and_cached(id: u64) -> u64 {
    id
}

#[cache_invalidate(tags = ["users"])]
#[cache_invalidate(tags = ["orders"])]
pub async fn invalidating_twice(id: u64) -> Result<u64, String> {
    Ok(id)
}

fn main() {}
