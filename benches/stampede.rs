//! A cold stampede: 1,000 concurrent calls on one key whose body takes 1 ms, on `#[cached_query]`
//! and on the `cached` crate's async `#[cached]` (without and with its `sync_writes` variants).
//! The time from the first spawn to the last result, and how many times each side ran the body.
//! Run through `scripts/bench.sh`; under `cargo test --all-targets` it runs once as a smoke test.

#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)] // a bench

mod support;

use cached::proc_macro::cached;
use cached_query::cached_query;
use criterion::{Criterion, criterion_group, criterion_main};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::{Small, install_config, small, write_extra};

const STAMPEDE: u64 = 1_000;

/// Body executions and stampedes of one side, over the whole run (warm-up included).
struct Executions {
    bodies: AtomicU64,
    stampedes: AtomicU64,
    worst: AtomicU64,
}

impl Executions {
    const fn new() -> Self {
        Executions {
            bodies: AtomicU64::new(0),
            stampedes: AtomicU64::new(0),
            worst: AtomicU64::new(0),
        }
    }
}

static EXEC_OURS: Executions = Executions::new();
static EXEC_CACHED: Executions = Executions::new();
static EXEC_CACHED_SYNC: Executions = Executions::new();
static EXEC_CACHED_BY_KEY: Executions = Executions::new();

async fn slow_body(executions: &Executions, id: u64) -> Small {
    executions.bodies.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(1)).await;
    small(id)
}

#[cached_query(ttl = "1h")]
async fn stampede_ours(id: u64) -> Small {
    slow_body(&EXEC_OURS, id).await
}

#[cached]
async fn stampede_cached(id: u64) -> Small {
    slow_body(&EXEC_CACHED, id).await
}

#[cached(sync_writes = "default")]
async fn stampede_cached_sync(id: u64) -> Small {
    slow_body(&EXEC_CACHED_SYNC, id).await
}

#[cached(sync_writes = "by_key")]
async fn stampede_cached_by_key(id: u64) -> Small {
    slow_body(&EXEC_CACHED_BY_KEY, id).await
}

/// A fresh key per stampede, never used before by any side.
static STAMPEDE_KEY: AtomicU64 = AtomicU64::new(1 << 40);

fn stampedes<F, Fut>(
    rt: &tokio::runtime::Runtime,
    iters: u64,
    executions: &'static Executions,
    call: F,
) -> Duration
where
    F: Fn(u64) -> Fut + Copy + Send + 'static,
    Fut: std::future::Future<Output = Small> + Send + 'static,
{
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let key = STAMPEDE_KEY.fetch_add(1, Ordering::Relaxed);
        let before = executions.bodies.load(Ordering::Relaxed);
        total += rt.block_on(async move {
            let start = Instant::now();
            let calls: Vec<_> = (0..STAMPEDE)
                .map(|_| tokio::spawn(async move { call(key).await }))
                .collect();
            for call in calls {
                assert_eq!(call.await.unwrap().id, key);
            }
            start.elapsed()
        });
        let ran = executions.bodies.load(Ordering::Relaxed) - before;
        executions.stampedes.fetch_add(1, Ordering::Relaxed);
        executions.worst.fetch_max(ran, Ordering::Relaxed);
    }
    total
}

fn stampede(c: &mut Criterion) {
    install_config();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("stampede_1000");
    group.sample_size(10);
    group.bench_function("cached_query", |b| {
        b.iter_custom(|iters| stampedes(&rt, iters, &EXEC_OURS, stampede_ours))
    });
    group.bench_function("cached", |b| {
        b.iter_custom(|iters| stampedes(&rt, iters, &EXEC_CACHED, stampede_cached))
    });
    group.bench_function("cached_sync_writes", |b| {
        b.iter_custom(|iters| stampedes(&rt, iters, &EXEC_CACHED_SYNC, stampede_cached_sync))
    });
    group.bench_function("cached_sync_writes_by_key", |b| {
        b.iter_custom(|iters| stampedes(&rt, iters, &EXEC_CACHED_BY_KEY, stampede_cached_by_key))
    });
    group.finish();

    let mut report = String::from("side\tstampedes\tbody_executions_per_stampede\tworst\n");
    for (side, e) in [
        ("cached_query", &EXEC_OURS),
        ("cached", &EXEC_CACHED),
        ("cached_sync_writes", &EXEC_CACHED_SYNC),
        ("cached_sync_writes_by_key", &EXEC_CACHED_BY_KEY),
    ] {
        let stampedes = e.stampedes.load(Ordering::Relaxed).max(1);
        let bodies = e.bodies.load(Ordering::Relaxed);
        report.push_str(&format!(
            "{side}\t{stampedes}\t{:.1}\t{}\n",
            bodies as f64 / stampedes as f64,
            e.worst.load(Ordering::Relaxed)
        ));
    }
    eprintln!("stampede body executions (1,000 concurrent cold calls):\n{report}");
    write_extra("stampede.tsv", &report);
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
    targets = stampede
}
criterion_main!(benches);
