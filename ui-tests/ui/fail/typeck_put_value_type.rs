//! The value `#[cache_put]` stores must be what the read function caches.
use cached_query::{cache_put, cached_query};

#[cached_query]
pub async fn get_user(id: u64) -> Result<String, String> {
    Ok(format!("user {id}"))
}

#[cache_put(get_user(id))]
pub async fn other_value(id: u64) -> Result<u64, String> {
    Ok(id)
}

#[cache_put(get_user(id))]
pub async fn another_option(id: u64) -> Option<u64> {
    Some(id)
}

fn main() {}
