use cached_query::cached_query;
use std::collections::HashMap;

// The batch holds `u32`s, the map is keyed by `u64`.
#[cached_query(batch)]
async fn get_users(ids: Vec<u32>) -> HashMap<u64, String> {
    ids.into_iter().map(|id| (u64::from(id), String::new())).collect()
}

// A batch is a collection of keys, not a single key.
#[cached_query(batch)]
async fn single(id: u64) -> HashMap<u64, String> {
    HashMap::from([(id, String::new())])
}

fn main() {}
