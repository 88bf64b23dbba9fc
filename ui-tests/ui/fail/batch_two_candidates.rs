use cached_query::cached_query;
use std::collections::HashMap;

pub struct Pool;

// `region` is in the key too: which parameter holds the items?
#[cached_query(batch, tags = ["user:{id}"])]
async fn get_users(region: String, ids: Vec<u64>) -> HashMap<u64, String> {
    ids.into_iter().map(|id| (id, region.clone())).collect()
}

fn main() {}
