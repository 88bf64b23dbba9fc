use cached_query::cached_query;
use std::collections::HashMap;

pub struct Pool;

#[cached_query(batch, skip(db))]
async fn all_skipped(db: &Pool) -> HashMap<u64, String> {
    let _ = db;
    HashMap::new()
}

#[derive(serde::Serialize)]
pub struct Repo;

impl Repo {
    #[cached_query(batch(self))]
    async fn receiver(&self, ids: Vec<u64>) -> HashMap<u64, String> {
        ids.into_iter().map(|id| (id, String::new())).collect()
    }
}

#[cached_query(batch(idz))]
async fn misspelled(ids: Vec<u64>) -> HashMap<u64, String> {
    ids.into_iter().map(|id| (id, String::new())).collect()
}

#[cached_query(batch(ids), skip(ids))]
async fn skipped(ids: Vec<u64>) -> HashMap<u64, String> {
    ids.into_iter().map(|id| (id, String::new())).collect()
}

fn main() {}
