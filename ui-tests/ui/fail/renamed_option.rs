use cached_query::cached_query;

#[cached_query(ttl_secs = 60)]
pub async fn by_ttl_secs(id: u64) -> u64 {
    id
}

#[cached_query(key = "id")]
pub async fn by_key(id: u64) -> u64 {
    id
}

#[cached_query(max_size = 100)]
pub async fn by_max_size(id: u64) -> u64 {
    id
}

#[cached_query(sync_writes)]
pub async fn by_sync_writes(id: u64) -> u64 {
    id
}

fn main() {}
