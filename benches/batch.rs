//! Batch queries (issue 14), against an in-memory SQLite table of 10,000 users:
//!
//! * `batch_200_75pct_warm`: 200 ids, 150 of them cached (the same 50 forgotten before each
//!   iteration, untimed): one `#[cached_query(batch)]` call (one `WHERE id IN (..)` query for the
//!   50), the same 200 ids as 200 calls of a single-id cached function (50 queries), and the
//!   uncached `WHERE id IN (..)` query for all 200 (and for the 50 alone: the batch's own
//!   query, to tell its time from the cache's).
//! * `batch_warm`: what a fully warm batch costs per item, against a single hit: a 200-item batch
//!   call, and one single-item call, both of a small `Copy` value (as in `benches/hit.rs`).
//!
//! SQLite runs on the calling thread (no hand-off to a blocking pool, which would add the same
//! cost to every query of every side). Run through `scripts/bench.sh`; under
//! `cargo test --all-targets` it runs once as a smoke test.

#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)] // a bench

mod support;

use cached_query::cached_query;
use criterion::{Criterion, criterion_group, criterion_main};
use rusqlite::{Connection, params, params_from_iter};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};
use support::{Small, current_thread, install_config, small, write_extra};

const USERS: i64 = 10_000;
const BATCH: i64 = 200;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    id: i64,
    name: String,
}

/// The table, and how many queries ran on it.
struct Db {
    conn: Mutex<Connection>,
    queries: AtomicU64,
}

static DB: LazyLock<Db> = LazyLock::new(|| {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);")
        .unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut insert = tx
            .prepare("INSERT INTO users (id, name) VALUES (?1, ?2)")
            .unwrap();
        for id in 1..=USERS {
            insert.execute(params![id, format!("User {id}")]).unwrap();
        }
    }
    tx.commit().unwrap();
    Db {
        conn: Mutex::new(conn),
        queries: AtomicU64::new(0),
    }
});

impl Db {
    /// `SELECT id, name FROM users WHERE id IN (..)`.
    fn load_many(&self, ids: &[i64]) -> Vec<User> {
        self.queries.fetch_add(1, Relaxed);
        let conn = self.conn.lock().unwrap();
        let marks = vec!["?"; ids.len()].join(",");
        let mut select = conn
            .prepare_cached(&format!("SELECT id, name FROM users WHERE id IN ({marks})"))
            .unwrap();
        let rows = select.query_map(params_from_iter(ids), |row| {
            Ok(User {
                id: row.get(0)?,
                name: row.get(1)?,
            })
        });
        rows.unwrap().map(Result::unwrap).collect()
    }
}

#[cached_query(batch, ttl = "1h", tags = ["user:{id}"])]
async fn users(ids: Vec<i64>) -> HashMap<i64, User> {
    let users = DB.load_many(&ids);
    users.into_iter().map(|user| (user.id, user)).collect()
}

#[cached_query(ttl = "1h", tags = ["user:{id}"])]
async fn user(id: i64) -> Option<User> {
    DB.load_many(&[id]).pop()
}

#[cached_query(batch, ttl = "1h")]
async fn small_batch(ids: Vec<u64>) -> HashMap<u64, Small> {
    ids.into_iter().map(|id| (id, small(id))).collect()
}

#[cached_query(ttl = "1h")]
async fn small_single(id: u64) -> Small {
    small(id)
}

/// The 200 ids of a page, and the 50 of them that are not cached.
fn page() -> (Vec<i64>, Vec<i64>) {
    let ids: Vec<i64> = (1..=BATCH).map(|i| 1 + (i * 37) % USERS).collect();
    let cold = ids.iter().copied().filter(|id| id % 4 == 0).collect();
    (ids, cold)
}

/// Queries per iteration of each side, for the report.
struct Queries(Vec<(&'static str, f64)>);

fn seventy_five_percent_warm(c: &mut Criterion, queries: &mut Queries) {
    let rt = current_thread();
    let (ids, cold) = page();
    assert_eq!(cold.len(), 50);
    rt.block_on(users(ids.clone()));
    rt.block_on(async {
        for &id in &ids {
            user(id).await;
        }
    });
    let mut group = c.benchmark_group("batch_200_75pct_warm");
    let mut measure = |name: &'static str, forget: &dyn Fn(), call: &dyn Fn() -> usize| {
        let before = (DB.queries.load(Relaxed), Instant::now());
        let mut iterations = 0u64;
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    forget();
                    let started = Instant::now();
                    assert_eq!(black_box(call()), BATCH as usize);
                    total += started.elapsed();
                }
                iterations += iters;
                total
            })
        });
        let ran = DB.queries.load(Relaxed) - before.0;
        queries
            .0
            .push((name, ran as f64 / iterations.max(1) as f64));
    };
    measure(
        "cached_query_batch",
        &|| {
            rt.block_on(cached_query::forget(users(cold.clone())));
        },
        &|| rt.block_on(users(ids.clone())).len(),
    );
    measure(
        "cached_query_200_singles",
        &|| {
            rt.block_on(async {
                for &id in &cold {
                    cached_query::forget(user(id)).await;
                }
            })
        },
        &|| {
            rt.block_on(async {
                let mut found = 0;
                for &id in &ids {
                    found += usize::from(user(id).await.is_some());
                }
                found
            })
        },
    );
    measure("uncached_batch_query", &|| {}, &|| DB.load_many(&ids).len());
    // What the batch's own query costs: the rest of its time is the cache's.
    group.bench_function("uncached_query_of_the_50", |b| {
        b.iter(|| black_box(DB.load_many(&cold).len()))
    });
    group.finish();
}

fn fully_warm(c: &mut Criterion) {
    let rt = current_thread();
    let ids: Vec<u64> = (0..BATCH as u64).collect();
    rt.block_on(small_batch(ids.clone()));
    rt.block_on(small_single(7));
    let mut group = c.benchmark_group("batch_warm");
    group.bench_function("batch_200", |b| {
        b.to_async(&rt).iter(|| {
            let ids = ids.clone();
            async move { black_box(small_batch(ids).await) }
        })
    });
    group.bench_function("vec_clone_200", |b| b.iter(|| black_box(ids.clone())));
    group.bench_function("single_hit", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(small_single(black_box(7)).await) })
    });
    group.finish();
}

fn batch(c: &mut Criterion) {
    install_config();
    let mut queries = Queries(Vec::new());
    seventy_five_percent_warm(c, &mut queries);
    fully_warm(c);
    let mut report = String::from("side\tqueries_per_call\n");
    for (side, per_call) in &queries.0 {
        report.push_str(&format!("{side}\t{per_call:.1}\n"));
    }
    eprintln!("SQLite queries per call (75 % warm, 200 ids):\n{report}");
    write_extra("batch.tsv", &report);
}

fn config() -> Criterion {
    // Short by default (2 shared cores); `scripts/bench.sh` passes the same on the command line.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = batch
}
criterion_main!(benches);
