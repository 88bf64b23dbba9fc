//! `tags = []` is refused by both attributes alike.

use cached_query::{cache_invalidate, cached_query};

#[cached_query(tags = [])]
pub async fn cached(id: u64) -> u64 {
    id
}

#[cache_invalidate(tags = [])]
pub async fn invalidating(id: u64) -> Result<u64, String> {
    Ok(id)
}

fn main() {}
