use cached_query::cached_query;
use std::collections::HashMap;

type Users = HashMap<u64, String>;

#[cached_query(batch)]
async fn list(ids: Vec<u64>) -> Vec<String> {
    ids.iter().map(u64::to_string).collect()
}

#[cached_query(batch)]
async fn aliased(ids: Vec<u64>) -> Result<Users, String> {
    Ok(ids.into_iter().map(|id| (id, String::new())).collect())
}

#[cached_query(batch, returns = "option")]
async fn optional(ids: Vec<u64>) -> HashMap<u64, String> {
    ids.into_iter().map(|id| (id, String::new())).collect()
}

fn main() {}
