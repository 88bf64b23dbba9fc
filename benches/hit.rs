//! What a hit costs, measured side by side in one run: `#[cached_query]` (on the engine
//! `CQ_BENCH_ENGINE` names: quick_cache by default, `moka`), a raw `quick_cache::sync::Cache::get`
//! and a raw `moka::future::Cache::get` (the floors of our engines), the `cached` crate's async
//! `#[cached]` (and its `sync_writes` variants), and a `HashMap` behind a `Mutex` (the floor of a
//! lookup). Also: hits at 1 k, 100 k and 1 M resident keys, hits from 2 threads,
//! `invalidate_tag` with 1 k and 1 M tagged entries, and key derivation alone. In the moka-engine
//! process only our side runs: the peers are measured once, in the default one.
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

mod support;

use cached::proc_macro::cached;
use cached_query::__private::{KeyBuilder, Site, SiteConfig};
use cached_query::{Engine, cached_query};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::cell::Cell;
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Barrier, LazyLock, Mutex, OnceLock};
use std::time::{Duration, Instant};
use support::{
    Small, current_thread, engine, full_run, install_config, label, ours_side, small, walk,
};

/// Resident key counts of the scaling benchmarks (small ones in a smoke test).
fn resident_sizes() -> [u64; 3] {
    if full_run() {
        [1_000, 100_000, 1_000_000]
    } else {
        [100, 200, 300]
    }
}

const HOT_KEYS: u64 = 1_000;

/// Peers run in the default-engine process only: the moka-engine process measures our side.
fn with_peers() -> bool {
    engine() == Engine::QuickCache
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

/// quick_cache as its users call it: the value itself in the cache, copied out by `get`.
type RawQuick = quick_cache::sync::Cache<u64, Small>;

fn raw_quick(capacity: u64) -> RawQuick {
    RawQuick::new(usize::try_from(capacity).unwrap())
}

static HOT_QUICK: LazyLock<RawQuick> = LazyLock::new(|| raw_quick(2 * HOT_KEYS));

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
            HOT_QUICK.insert(id, small(id));
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
    bench_hits!(group, &rt, ours_side(), |id| ours(id).await);
    if with_peers() {
        bench_hits!(group, &rt, "raw_quick_cache", |id| HOT_QUICK.get(&id));
        bench_hits!(group, &rt, "raw_moka", |id| raw_get(&HOT_MOKA, id).await);
        bench_hits!(group, &rt, "cached", |id| cached_plain(id).await);
        bench_hits!(group, &rt, "cached_sync_writes", |id| {
            cached_sync_writes(id).await
        });
        bench_hits!(group, &rt, "cached_lru_ttl", |id| cached_lru_ttl(id).await);
        bench_hits!(group, &rt, "hashmap_mutex", |id| hashmap_get(id));
    }
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
    group.bench_function(ours_side(), |b| {
        warm();
        b.iter_custom(|iters| two_threads(iters, ours))
    });
    if !with_peers() {
        return group.finish();
    }
    group.bench_function("raw_quick_cache", |b| {
        warm();
        b.iter_custom(|iters| two_threads(iters, |id| async move { HOT_QUICK.get(&id) }))
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
    if !with_peers() {
        return;
    }
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
// cache for the whole process, so it then holds the smaller sets too.

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
        group.bench_function(BenchmarkId::new(ours_side(), label(n)), |b| {
            populate();
            b.to_async(&rt).iter(|| {
                let i = next.get();
                next.set(i + 1);
                async move { black_box(resident(size, walk(i, n)).await) }
            })
        });
        if !with_peers() {
            continue;
        }
        let quick: OnceLock<RawQuick> = OnceLock::new();
        group.bench_function(BenchmarkId::new("raw_quick_cache", label(n)), |b| {
            let quick = quick.get_or_init(|| {
                let quick = raw_quick(2 * n);
                for id in 0..n {
                    quick.insert(id, small(id));
                }
                quick
            });
            b.to_async(&rt).iter(|| {
                let i = next.get();
                next.set(i + 1);
                async move { black_box(quick.get(&walk(i, n))) }
            })
        });
        drop(quick);
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
        // The raw caches go; ours stays, and is what `invalidate_tag` is measured against.
        drop(raw);
    }
    group.finish();
}

/// `invalidate_tag` on the tags of the smallest and largest resident sets: flat, whatever the
/// number of entries carrying the tag (a generation bump, not a scan).
fn invalidate(c: &mut Criterion) {
    install_config();
    if !with_peers() {
        return;
    }
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
    targets = hit, key_derivation, hit_two_threads, hit_resident, invalidate
}
criterion_main!(benches);
