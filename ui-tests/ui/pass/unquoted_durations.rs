//! Durations with a unit may be written without quotes; the unit is read as written.

use cached_query::cached_query;

#[cached_query(ttl = 100ms)]
pub async fn tenth_of_a_second(id: u64) -> u64 {
    id
}

#[cached_query(ttl = 1h30m, stale_if_error = 1d, min_compute = 5ms)]
pub async fn compound(id: u64) -> Result<u64, String> {
    Ok(id)
}

#[cached_query(ttl = 5m, cache_none, none_ttl = 30s, stale_while_revalidate = 2m)]
pub async fn maybe(id: u64) -> Option<u64> {
    Some(id)
}

fn main() {}
