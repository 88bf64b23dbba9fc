use cached_query::cached_query;
use std::collections::HashMap;

#[cached_query(batch, tags = ["user:{ids}"])]
async fn get_users(ids: Vec<u64>) -> HashMap<u64, String> {
    ids.into_iter().map(|id| (id, String::new())).collect()
}

// `batch` can't name the items of `batch`: the placeholder names nothing.
#[cached_query(batch, tags = ["user:{key}"])]
async fn unnamed(batch: Vec<u64>) -> HashMap<u64, String> {
    batch.into_iter().map(|id| (id, String::new())).collect()
}

#[cached_query(batch(ids as region), tags = ["user:{region}"])]
async fn taken(region: String, ids: Vec<u64>) -> HashMap<u64, String> {
    ids.into_iter().map(|id| (id, region.clone())).collect()
}

fn main() {}
