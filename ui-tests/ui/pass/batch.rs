//! Every form of `#[cached_query(batch)]` compiles: the parameter named or found, its items
//! named or inferred, owned and borrowed batches, maps in a `Result` or alone, a method.
use cached_query::cached_query;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub struct Pool;

#[cached_query(batch, ttl = "5m", tags = ["users", "user:{id}"], skip(db))]
pub async fn get_users(db: &Pool, ids: Vec<u64>) -> Result<HashMap<u64, String>, String> {
    let _ = db;
    Ok(ids.into_iter().map(|id| (id, id.to_string())).collect())
}

#[cached_query(batch(skus as sku), tags = ["{region}:{sku}"], merge = "2ms", max_batch = 100)]
pub async fn stock(region: String, skus: &[String]) -> BTreeMap<String, u32> {
    skus.iter().map(|sku| (format!("{region}{sku}"), 1)).collect()
}

#[cached_query(batch, cache_none = false, local)]
pub async fn from_set(mut entries: HashSet<u64>) -> HashMap<u64, Vec<u8>> {
    entries.retain(|e| *e > 0);
    entries.into_iter().map(|e| (e, vec![])).collect()
}

#[cached_query(batch, condition = ids.len() < 100)]
pub async fn borrowed_set(ids: &BTreeSet<u64>) -> anyhow_like::Result<BTreeMap<u64, u64>> {
    Ok(ids.iter().map(|id| (*id, *id)).collect())
}

mod anyhow_like {
    pub type Result<T> = std::result::Result<T, String>;
}

#[derive(serde::Serialize)]
pub struct Shard(u8);

impl Shard {
    #[cached_query(batch, tags = ["shard:{self.0}:{key}"])]
    pub async fn values(&self, keys: Vec<u64>) -> HashMap<u64, u8> {
        keys.into_iter().map(|k| (k, self.0)).collect()
    }
}

fn main() {}
