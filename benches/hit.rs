//! What a hit costs, measured side by side in one run: `#[cached_query]`, a raw
//! `moka::future::Cache::get` (the floor of our store), the `cached` crate's async `#[cached]`
//! (and its `sync_writes` variants), and a `HashMap` behind a `Mutex` (the floor of a lookup).
//! Also: hits at 1 k, 100 k and 1 M resident keys, hits from 2 threads, a cold stampede,
//! `invalidate_tag` with 1 k and 1 M tagged entries, and key derivation alone.
//!
//! Every side has the same shape: one `u64` argument, a small `Copy` struct as the value, a warm
//! cache, the value returned owned (cloned out). Run through `scripts/bench.sh`, which also
//! writes `BENCHMARKS.md`. Under `cargo test --all-targets` (no `--bench` flag) every benchmark
//! runs once on small sizes, as a smoke test.

#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)] // a bench

use cached::proc_macro::cached;
use cached_query::__private::{KeyBuilder, Site, SiteConfig};
use cached_query::{Config, cached_query};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, LazyLock, Mutex, OnceLock};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// The function shape every side implements.

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Small {
    id: u64,
    score: u32,
    active: bool,
}

fn small(id: u64) -> Small {
    Small {
        id,
        score: (id as u32).wrapping_mul(7),
        active: id.is_multiple_of(2),
    }
}

/// `--bench` is passed by `cargo bench`; `cargo test --all-targets` runs the binary without it.
fn full_run() -> bool {
    static FULL: OnceLock<bool> = OnceLock::new();
    *FULL.get_or_init(|| std::env::args().any(|a| a == "--bench"))
}

/// Resident key counts of the scaling benchmarks (small ones in a smoke test).
fn resident_sizes() -> [u64; 3] {
    if full_run() {
        [1_000, 100_000, 1_000_000]
    } else {
        [100, 200, 300]
    }
}

const HOT_KEYS: u64 = 1_000;

/// The `i`th key of a walk over `n` resident keys: every key in turn, in a scattered order.
fn walk(i: u64, n: u64) -> u64 {
    (i.wrapping_mul(7_919)) % n
}

fn install_config() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        // Room for every resident entry of the run: nothing is evicted while we measure.
        let installed = Config::new()
            .max_capacity_bytes(4 << 30)
            .default_ttl(Duration::from_secs(3_600))
            .install();
        assert!(installed.is_ok(), "installed before the first cached call");
    });
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The sides.

#[cached_query(ttl = "1h")]
async fn ours(id: u64) -> Small {
    small(id)
}

#[cached]
async fn cached_plain(id: u64) -> Small {
    small(id)
}

#[cached(sync_writes = "default")]
async fn cached_sync_writes(id: u64) -> Small {
    small(id)
}

/// Bounded and with a TTL, like ours: `cached`'s LRU + TTL store.
#[cached(max_size = 100_000, ttl_secs = 3_600)]
async fn cached_lru_ttl(id: u64) -> Small {
    small(id)
}

type RawMoka = moka::future::Cache<u64, Arc<Small>>;

fn raw_moka(capacity: u64) -> RawMoka {
    moka::future::Cache::builder()
        .max_capacity(capacity)
        .build()
}

/// The floor of our store: `get` on a prebuilt key, the value cloned out of its `Arc`.
async fn raw_get(cache: &RawMoka, id: u64) -> Option<Small> {
    cache.get(&id).await.map(|value| Small::clone(&value))
}

static HOT_MOKA: LazyLock<RawMoka> = LazyLock::new(|| raw_moka(2 * HOT_KEYS));

static HASHMAP: LazyLock<Mutex<HashMap<u64, Small>>> =
    LazyLock::new(|| Mutex::new((0..HOT_KEYS).map(|id| (id, small(id))).collect()));

fn hashmap_get(id: u64) -> Option<Small> {
    HASHMAP.lock().unwrap().get(&id).copied()
}

/// Warms every side with the `HOT_KEYS` keys.
fn warm_hot(rt: &tokio::runtime::Runtime) {
    static WARM: OnceLock<()> = OnceLock::new();
    if WARM.set(()).is_err() {
        return;
    }
    rt.block_on(async {
        for id in 0..HOT_KEYS {
            ours(id).await;
            cached_plain(id).await;
            cached_sync_writes(id).await;
            cached_lru_ttl(id).await;
            HOT_MOKA.insert(id, Arc::new(small(id))).await;
        }
        LazyLock::force(&HASHMAP);
        cached_query::run_pending_tasks().await;
        HOT_MOKA.run_pending_tasks().await;
    });
}

/// One hit per iteration, walking the hot keys, on a current-thread runtime.
macro_rules! bench_hits {
    ($group:expr, $rt:expr, $name:expr, |$id:ident| $call:expr) => {{
        let next = Cell::new(0u64);
        $group.bench_function($name, |b| {
            warm_hot($rt);
            b.to_async($rt).iter(|| {
                let i = next.get();
                next.set(i + 1);
                let $id = walk(i, HOT_KEYS);
                async move { black_box($call) }
            })
        });
    }};
}

fn hit(c: &mut Criterion) {
    install_config();
    let rt = current_thread();
    let mut group = c.benchmark_group("hit");
    bench_hits!(group, &rt, "cached_query", |id| ours(id).await);
    bench_hits!(group, &rt, "raw_moka", |id| raw_get(&HOT_MOKA, id).await);
    bench_hits!(group, &rt, "cached", |id| cached_plain(id).await);
    bench_hits!(group, &rt, "cached_sync_writes", |id| cached_sync_writes(
        id
    )
    .await);
    bench_hits!(group, &rt, "cached_lru_ttl", |id| cached_lru_ttl(id).await);
    bench_hits!(group, &rt, "hashmap_mutex", |id| hashmap_get(id));
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Two threads hitting the same warm keys.

/// Runs `iters` hits on each of two threads (each its own current-thread runtime), started
/// together; the time of the slower thread: the latency of a hit while another core hits too.
fn two_threads<F, Fut>(iters: u64, call: F) -> Duration
where
    F: Fn(u64) -> Fut + Sync,
    Fut: std::future::Future,
{
    let barrier = Barrier::new(2);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..2u64)
            .map(|t| {
                let (barrier, call) = (&barrier, &call);
                s.spawn(move || {
                    let rt = current_thread();
                    rt.block_on(async {
                        barrier.wait();
                        let start = Instant::now();
                        for i in 0..iters {
                            black_box(call(walk(i + t * 500, HOT_KEYS)).await);
                        }
                        start.elapsed()
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .max()
            .unwrap_or_default()
    })
}

fn hit_two_threads(c: &mut Criterion) {
    install_config();
    let warm = || warm_hot(&current_thread());
    let mut group = c.benchmark_group("hit_2_threads");
    group.bench_function("cached_query", |b| {
        warm();
        b.iter_custom(|iters| two_threads(iters, ours))
    });
    group.bench_function("raw_moka", |b| {
        warm();
        b.iter_custom(|iters| two_threads(iters, |id| raw_get(&HOT_MOKA, id)))
    });
    group.bench_function("cached", |b| {
        warm();
        b.iter_custom(|iters| two_threads(iters, cached_plain))
    });
    group.bench_function("cached_sync_writes", |b| {
        warm();
        b.iter_custom(|iters| two_threads(iters, cached_sync_writes))
    });
    group.bench_function("cached_lru_ttl", |b| {
        warm();
        b.iter_custom(|iters| two_threads(iters, cached_lru_ttl))
    });
    group.bench_function("hashmap_mutex", |b| {
        warm();
        b.iter_custom(|iters| two_threads(iters, |id| async move { hashmap_get(id) }))
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Key derivation alone: what the generated code does before the lookup.

fn site(name: &'static str) -> Site {
    Site::new(SiteConfig {
        name: Some(name),
        ..SiteConfig::DEFAULT
    })
}

static SITE_1: LazyLock<Site> = LazyLock::new(|| site("bench::key_1"));
static SITE_3: LazyLock<Site> = LazyLock::new(|| site("bench::key_3"));
static SITE_8: LazyLock<Site> = LazyLock::new(|| site("bench::key_8"));

fn key_derivation(c: &mut Criterion) {
    install_config();
    fn id() {}
    let mut group = c.benchmark_group("key_derivation");
    let n = Cell::new(0u64);
    let bump = || {
        let i = n.get();
        n.set(i + 1);
        i
    };
    group.bench_function("1_arg", |b| {
        b.iter(|| {
            let mut key = KeyBuilder::new(&SITE_1, id);
            key.arg(&black_box(bump()));
            black_box(key.finish())
        })
    });
    group.bench_function("3_args", |b| {
        b.iter(|| {
            let mut key = KeyBuilder::new(&SITE_3, id);
            key.arg(&black_box(bump()));
            key.arg(black_box("tenant-42"));
            key.arg(&black_box(true));
            black_box(key.finish())
        })
    });
    group.bench_function("8_args", |b| {
        b.iter(|| {
            let mut key = KeyBuilder::new(&SITE_8, id);
            key.arg(&black_box(bump()));
            key.arg(black_box("tenant-42"));
            key.arg(&black_box(true));
            key.arg(&black_box(7u32));
            key.arg(&black_box(Some(-3i64)));
            key.arg(&black_box((1u8, 2u16)));
            key.arg(&black_box('x'));
            key.arg(black_box("en-GB"));
            black_box(key.finish())
        })
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Hits as the number of resident keys grows. Run after the 1 k figures above: our store is one
// moka cache for the whole process, so it then holds about as many entries as the raw one.

macro_rules! resident_fn {
    ($name:ident, $tag:literal) => {
        #[cached_query(ttl = "1h", tags = [$tag])]
        async fn $name(id: u64) -> Small {
            small(id)
        }
    };
}
resident_fn!(resident_small, "resident:small");
resident_fn!(resident_medium, "resident:medium");
resident_fn!(resident_large, "resident:large");

async fn resident(size: usize, id: u64) -> Small {
    match size {
        0 => resident_small(id).await,
        1 => resident_medium(id).await,
        _ => resident_large(id).await,
    }
}

fn label(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

fn hit_resident(c: &mut Criterion) {
    install_config();
    let rt = current_thread();
    let mut group = c.benchmark_group("hit_resident");
    for (size, n) in resident_sizes().into_iter().enumerate() {
        // Filled on first use, so a filtered-out size costs nothing.
        let populated = Cell::new(false);
        let populate = || {
            if !populated.replace(true) {
                rt.block_on(async {
                    for id in 0..n {
                        resident(size, id).await;
                    }
                    cached_query::run_pending_tasks().await;
                });
            }
        };
        let next = Cell::new(0u64);
        group.bench_function(BenchmarkId::new("cached_query", label(n)), |b| {
            populate();
            b.to_async(&rt).iter(|| {
                let i = next.get();
                next.set(i + 1);
                async move { black_box(resident(size, walk(i, n)).await) }
            })
        });
        let raw: OnceLock<RawMoka> = OnceLock::new();
        group.bench_function(BenchmarkId::new("raw_moka", label(n)), |b| {
            let raw = raw.get_or_init(|| {
                let raw = raw_moka(2 * n);
                rt.block_on(async {
                    for id in 0..n {
                        raw.insert(id, Arc::new(small(id))).await;
                    }
                    raw.run_pending_tasks().await;
                });
                raw
            });
            b.to_async(&rt).iter(|| {
                let i = next.get();
                next.set(i + 1);
                async move { black_box(raw_get(raw, walk(i, n)).await) }
            })
        });
        // The raw cache goes; ours stays, and is what `invalidate_tag` is measured against.
        drop(raw);
    }
    group.finish();
}

/// `invalidate_tag` on the tags of the smallest and largest resident sets: flat, whatever the
/// number of entries carrying the tag (a generation bump, not a scan).
fn invalidate(c: &mut Criterion) {
    install_config();
    let rt = current_thread();
    let [small_n, _, large_n] = resident_sizes();
    let mut group = c.benchmark_group("invalidate_tag");
    for (tag, n) in [("resident:small", small_n), ("resident:large", large_n)] {
        let populated = Cell::new(false);
        group.bench_function(label(n), |b| {
            if !populated.replace(true) {
                // Already there when `hit_resident` ran first; hits then, and quick.
                rt.block_on(async {
                    for id in 0..n {
                        match tag {
                            "resident:small" => resident_small(id).await,
                            _ => resident_large(id).await,
                        };
                    }
                });
            }
            b.to_async(&rt)
                .iter(|| async move { cached_query::invalidate_tag(tag).await.unwrap() })
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// A cold stampede: 1,000 concurrent calls on one key whose body takes 1 ms.

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

/// Figures criterion does not record, for `scripts/bench.sh`: into `$CQ_BENCH_OUT` when set.
fn write_extra(file: &str, contents: &str) {
    if let Some(dir) = std::env::var_os("CQ_BENCH_OUT") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(file), contents).unwrap();
    }
}

fn config() -> Criterion {
    // Short by default (2 shared cores); `scripts/bench.sh` passes the same on the command line.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = hit, key_derivation, hit_two_threads, stampede, hit_resident, invalidate
}
criterion_main!(benches);
