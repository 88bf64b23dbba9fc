//! Quick start: cache a slow "database" lookup with one attribute, on the zero-configuration
//! in-memory store.
//!
//! Run it with `cargo run --example quickstart`. It prints, for each call, whether it was a hit
//! or a miss and how long it took, then the statistics.

use cached_query::cached_query;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct User {
    id: u64,
    name: String,
}

#[derive(Debug)]
enum DbError {
    NotFound(u64),
}

/// A stand-in for a real database: every query takes 150 ms.
struct Db {
    users: Mutex<BTreeMap<u64, String>>,
    queries: Mutex<u32>,
}

impl Db {
    async fn query_user(&self, id: u64) -> Result<User, DbError> {
        *self.queries.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        let name = users.get(&id).cloned().ok_or(DbError::NotFound(id))?;
        Ok(User { id, name })
    }

    fn rename(&self, id: u64, name: &str) {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        users.insert(id, name.to_string());
    }
}

/// The cached function: keyed by `id` (the pool is skipped), tagged for invalidation.
#[cached_query(ttl = "5m", tags = ["users", "user:{id}"], skip(db))]
async fn get_user(db: &Db, id: u64) -> Result<User, DbError> {
    db.query_user(id).await
}

/// Calls `get_user` and prints what happened.
async fn show(label: &str, db: &Db, id: u64) {
    let before = counts();
    let started = Instant::now();
    let result = get_user(db, id).await;
    let took = started.elapsed();
    let after = counts();
    let outcome = if after.hits > before.hits {
        "hit "
    } else {
        "miss"
    };
    let shown = match result {
        Ok(user) => format!("{user:?}"),
        Err(DbError::NotFound(id)) => format!("error: no user {id} (errors are not cached)"),
    };
    println!(
        "{label:<38} {outcome} {:>9.3} ms  {shown}",
        took.as_secs_f64() * 1e3
    );
}

fn counts() -> cached_query::Counts {
    cached_query::stats()
        .function("get_user")
        .map(|f| f.counts)
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let db = Arc::new(Db {
        users: Mutex::new(BTreeMap::from([(1, "Ada".into()), (2, "Grace".into())])),
        queries: Mutex::new(0),
    });

    show("first call for user 1", &db, 1).await;
    show("same call again", &db, 1).await;
    show("user 2", &db, 2).await;
    show("user 2 again", &db, 2).await;
    show("missing user 404", &db, 404).await;
    show("missing user 404 again", &db, 404).await;

    let removed = cached_query::forget(get_user(&db, 2)).await;
    println!(
        "{:<38} removed an entry: {removed}",
        "forget(get_user(&db, 2))"
    );

    db.rename(1, "Ada Lovelace");
    cached_query::invalidate_tag("user:1")
        .await
        .unwrap_or_else(|e| eprintln!("invalidation incomplete: {e}"));
    show("user 1 after invalidate_tag(\"user:1\")", &db, 1).await;
    show("user 1 again", &db, 1).await;

    let started = Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let db = Arc::clone(&db);
        calls.spawn(async move { get_user(&db, 2).await.is_ok() });
    }
    let ok = calls.join_all().await.into_iter().filter(|ok| *ok).count();
    println!(
        "{:<38} {ok} ok in {:.1} ms",
        "50 concurrent calls, user 2 forgotten",
        started.elapsed().as_secs_f64() * 1e3,
    );

    show("user 2 after the stampede", &db, 2).await;

    let queries = *db.queries.lock().unwrap_or_else(|e| e.into_inner());
    println!("\ndatabase queries run: {queries}");
    let stats = cached_query::stats();
    let c = stats
        .function("get_user")
        .map(|f| f.counts)
        .unwrap_or_default();
    println!(
        "get_user: {} hits, {} misses ({} coalesced), {} errors, hit ratio {:.0} %",
        c.hits,
        c.misses,
        c.coalesced,
        c.errors,
        c.hit_ratio() * 100.0
    );
    match serde_json::to_string_pretty(&stats.total) {
        Ok(json) => println!("all functions: {json}"),
        Err(e) => eprintln!("stats did not serialize: {e}"),
    }
}
