use cached_query::cached_query;
use std::collections::HashMap;

#[cached_query(batch, stale_if_error = "1m", early_refresh, min_compute = "5ms")]
async fn windows(ids: Vec<u64>) -> Result<HashMap<u64, String>, String> {
    Ok(ids.into_iter().map(|id| (id, String::new())).collect())
}

#[cached_query(batch, cache_err = |e: &String| e.is_empty(), unless = |r: &HashMap<u64, String>| r.is_empty())]
async fn predicates(ids: Vec<u64>) -> Result<HashMap<u64, String>, String> {
    Ok(ids.into_iter().map(|id| (id, String::new())).collect())
}

#[cached_query(batch, max_batch = 100, cache_none = false, none_ttl = "1m")]
async fn merging(ids: Vec<u64>) -> HashMap<u64, String> {
    ids.into_iter().map(|id| (id, String::new())).collect()
}

#[cached_query(merge = "2ms", cache_none = false)]
async fn single(id: u64) -> Option<String> {
    Some(id.to_string())
}

fn main() {}
