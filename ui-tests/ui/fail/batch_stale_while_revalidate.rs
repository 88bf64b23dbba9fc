use cached_query::cached_query;
use std::collections::HashMap;

pub struct Pool;

#[cached_query(batch, ttl = "5m", stale_while_revalidate = "1m", skip(db))]
async fn get_users(db: &Pool, ids: Vec<u64>) -> HashMap<u64, String> {
    let _ = db;
    ids.into_iter().map(|id| (id, String::new())).collect()
}

fn main() {}
