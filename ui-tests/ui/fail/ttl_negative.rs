use cached_query::cached_query;

#[cached_query(ttl = -1)]
pub async fn negative_seconds(id: u64) -> u64 {
    id
}

#[cached_query(cache_none, none_ttl = -5m)]
pub async fn negative_minutes(id: u64) -> Option<u64> {
    Some(id)
}

fn main() {}
