//! `stale_while_revalidate` with owned arguments: free functions, `Arc<Self>` and by-value
//! receivers, generics, `&'static` references; `early_refresh` with and without it.
#![allow(dead_code)]

use cached_query::cached_query;
use serde::Serialize;
use std::sync::Arc;

pub struct Pool;

#[cached_query(ttl = "5m", stale_while_revalidate = "1m", early_refresh, skip(db))]
async fn get_user(db: Arc<Pool>, id: u64, region: &'static str) -> Result<String, String> {
    let _ = db;
    Ok(format!("{id}@{region}"))
}

#[cached_query(ttl = "5m", early_refresh = 2.5)]
async fn borrowed_is_fine_without_revalidation(name: &str) -> String {
    name.to_owned()
}

#[derive(Clone, Serialize)]
pub struct Repo {
    pub shard: u8,
}

impl Repo {
    #[cached_query(stale_while_revalidate = "30s", skip(self))]
    async fn by_arc(self: Arc<Self>, key: String) -> Option<String> {
        Some(key)
    }

    #[cached_query(stale_while_revalidate = "30s")]
    async fn by_value(self, key: u32) -> u32 {
        u32::from(self.shard) + key
    }
}

#[cached_query(stale_while_revalidate = "30s")]
async fn generic<T: Serialize + Send + Sync + 'static>(value: T) -> usize {
    std::mem::size_of_val(&value)
}

fn main() {}
