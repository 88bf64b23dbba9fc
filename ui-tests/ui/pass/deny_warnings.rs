//! The expansion is lint-clean: every annotated function below compiles under these lints.
//! (The clippy lints only matter under a real clippy run; rustc ignores them.)
#![deny(
    warnings,
    clippy::all,
    unused_qualifications,
    unused_results,
    rust_2018_idioms,
    missing_debug_implementations,
    unreachable_pub,
    non_snake_case,
    unused_extern_crates,
    trivial_casts,
    trivial_numeric_casts,
    single_use_lifetimes
)]

use cached_query::{cache_invalidate, cache_put, cached_query};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Debug)]
struct Pool;

#[derive(Clone, Debug, Serialize)]
struct User {
    id: u64,
    org: u32,
}

#[derive(Debug, Clone)]
struct Opaque;

#[cached_query]
async fn plain(id: u64) -> u64 {
    id + 1
}

#[cached_query(ttl = "5m", tags = ["users", "user:{id}", "org:{user.org}"], skip(db))]
async fn tagged(db: &Pool, id: u64, user: User) -> Result<String, String> {
    let _: &Pool = db;
    if user.id == 0 {
        return Err("no user".to_owned());
    }
    Ok(format!("{id}:{}", user.id))
}

#[cached_query(cache_none, none_ttl = 10)]
async fn maybe(id: u32) -> Option<u32> {
    id.checked_sub(1)
}

#[cached_query(local, version = 2, name = "deny_warnings.local")]
async fn local(id: u32) -> Result<Opaque, Arc<str>> {
    if id == 0 {
        Err("zero".into())
    } else {
        Ok(Opaque)
    }
}

#[cached_query]
async fn generic<T: Serialize + Send + Sync, const N: usize>(value: T) -> usize {
    drop(value);
    N
}

#[cached_query(skip(context))]
async fn impl_trait(key: impl Serialize + Send, context: impl AsRef<str>) -> usize {
    drop(key);
    context.as_ref().len()
}

async fn drive_impl_trait() -> usize {
    impl_trait(1u8, "context").await
}

#[cached_query]
async fn patterns((a, b): (u8, u8), mut c: u8) -> u8 {
    c = c.wrapping_add(a);
    c.wrapping_add(b)
}

#[derive(Debug, Serialize)]
struct Repo {
    shard: u8,
}

impl Repo {
    #[cached_query(tags = ["shard:{self.shard}"])]
    async fn by_ref(&self, key: &str) -> String {
        format!("{}:{key}", self.shard)
    }

    #[cached_query(skip(self))]
    async fn skipped(self: Arc<Self>) -> u8 {
        self.shard
    }

    #[cached_query]
    async fn by_value(self) -> u8 {
        self.shard
    }
}

#[cached_query(batch, tags = ["users", "user:{id}"], skip(db), merge = "2ms")]
async fn batch(db: &Pool, ids: Vec<u64>) -> Result<HashMap<u64, String>, String> {
    let _: &Pool = db;
    Ok(ids.into_iter().map(|id| (id, id.to_string())).collect())
}

#[cached_query(batch(keys as key), local, cache_none = false)]
async fn borrowed_batch(keys: &[u64]) -> BTreeMap<u64, u64> {
    keys.iter().map(|key| (*key, key + 1)).collect()
}

impl Repo {
    #[cached_query(batch, tags = ["shard:{self.shard}:{key}"])]
    async fn batch_by_ref(&self, keys: Vec<u64>) -> HashMap<u64, u8> {
        keys.into_iter().map(|key| (key, self.shard)).collect()
    }
}

#[cache_invalidate(tags = ["users", "user:{id}", "org:{user.org}"])]
async fn update(db: &Pool, id: u64, user: User) -> Result<u64, String> {
    let _: &Pool = db;
    if user.id == 0 {
        return Err("no user".to_owned());
    }
    Ok(id)
}

#[cache_invalidate(tags = ["users"])]
async fn unit_write(id: u64) {
    let _ = id;
}

#[cache_invalidate(tags = ["users"], returns = "value")]
async fn value_write(id: u64) -> Option<u64> {
    id.checked_sub(1)
}

impl Repo {
    #[cache_invalidate(tags = ["shard:{self.shard}"], before)]
    async fn write(&mut self, shard: u8) -> Result<(), String> {
        self.shard = shard;
        Ok(())
    }

    #[cache_invalidate(tags = ["shard:{self.shard}"])]
    async fn consume(self) -> u8 {
        self.shard
    }
}

#[cache_put(tagged(db, id, user.clone()))]
async fn put_tagged(db: &Pool, id: u64, user: User) -> Result<String, String> {
    let _: &Pool = db;
    Ok(format!("{id}: {}", user.id))
}

#[cache_put(plain(id), returns = "value")]
#[cache_invalidate(tags = ["users"])]
async fn put_plain(id: u64) -> u64 {
    id + 1
}

#[cache_put(maybe(id))]
async fn put_maybe(id: u32) -> Option<u32> {
    id.checked_add(1)
}

fn main() {
    // Use every function, so that `dead_code` (part of `warnings`) stays quiet.
    let _ = (
        plain,
        tagged,
        maybe,
        local,
        generic::<u8, 1>,
        drive_impl_trait,
        patterns,
        Repo::by_ref,
        Repo::skipped,
        Repo::by_value,
        update,
        unit_write,
        value_write,
        Repo::write,
        Repo::consume,
        batch,
        borrowed_batch,
        Repo::batch_by_ref,
        put_tagged,
        put_plain,
        put_maybe,
    );
}
