//! Bytes per entry at 100 k entries with a small value: `#[cached_query]` on each engine, a raw
//! `quick_cache::sync::Cache` and a raw `moka::future::Cache`, the `cached` crate's async
//! `#[cached]` (unbounded, and LRU + TTL), and a plain `HashMap`. A counting global allocator (`stats_alloc`, process-wide: moka's maintenance
//! allocates on other threads too) gives (bytes held after − before) / entries, with every
//! store's own bookkeeping counted once its pending maintenance has run.
//!
//! Run by `scripts/bench.sh`; under `cargo test --all-targets` (no `--bench` flag) it runs on
//! 1 k entries as a smoke test.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // a bench

mod support;

use cached::proc_macro::cached;
#[cfg(feature = "moka")]
use cached_query::{Cache, Engine};
use cached_query::{Config, cached_query};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;
use support::{Small, small, write_extra};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[cached_query(ttl = "1h")]
async fn ours(id: u64) -> Small {
    small(id)
}

#[cached_query(ttl = "1h")]
async fn ours_warm_up(id: u64) -> Small {
    small(id)
}

#[cached]
async fn cached_plain(id: u64) -> Small {
    small(id)
}

#[cached(max_size = 100_000, ttl_secs = 3_600)]
async fn cached_lru_ttl(id: u64) -> Small {
    small(id)
}

/// Bytes held now, by the whole process. `stats_alloc` already counts a reallocation's growth
/// in `bytes_allocated` (and its shrinking in `bytes_deallocated`); `bytes_reallocated` is the
/// same change again, so it is not added (it once was: every table grown by `realloc`, as
/// quick_cache's slab is, counted twice).
fn held(region: &Region<'_, System>) -> i64 {
    let change = region.change();
    change.bytes_allocated as i64 - change.bytes_deallocated as i64
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n: u64 = if full { 100_000 } else { 1_000 };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let installed = Config::new()
        .max_capacity_bytes(4 << 30)
        .default_ttl(Duration::from_secs(3_600))
        .install();
    assert!(installed.is_ok());
    // The runtime, its maintenance thread, this thread's key buffer: not per-entry costs.
    rt.block_on(async {
        for id in 0..64 {
            ours_warm_up(id).await;
        }
        cached_query::run_pending_tasks().await;
    });

    let per_entry = |bytes: i64| bytes as f64 / n as f64;
    let mut rows: Vec<(&str, f64, &str)> = Vec::new();

    let region = Region::new(GLOBAL);
    rt.block_on(async {
        for id in 0..n {
            black_box(ours(id).await);
        }
        cached_query::run_pending_tasks().await;
    });
    rows.push((
        "cached_query",
        per_entry(held(&region)),
        "quick_cache slot (u64 slot key, `Arc`) + `Arc<Entry>` (48 B of metadata: origin, generation, deadline, key's high half, weight; the value)",
    ));

    #[cfg(feature = "moka")]
    {
        // An instance of its own on moka, warmed like the process-wide one before measuring.
        let on_moka = Cache::new(
            Config::new()
                .engine(Engine::Moka)
                .max_capacity_bytes(4 << 30)
                .default_ttl(Duration::from_secs(3_600)),
        );
        rt.block_on(on_moka.scope(async {
            for id in 0..64 {
                ours_warm_up(id).await;
            }
        }));
        let region = Region::new(GLOBAL);
        rt.block_on(on_moka.scope(async {
            for id in 0..n {
                black_box(ours(id).await);
            }
        }));
        rt.block_on(on_moka.run_pending_tasks());
        rows.push((
            "cached_query_moka",
            per_entry(held(&region)),
            "moka entry (u64 slot key) + `Arc<Entry>` + the instance's per-function counters",
        ));
    }

    let region = Region::new(GLOBAL);
    let quick = quick_cache::sync::Cache::<u64, Small>::new(n as usize);
    for id in 0..n {
        quick.insert(id, small(id));
    }
    rows.push((
        "raw_quick_cache",
        per_entry(held(&region)),
        "`quick_cache::sync::Cache<u64, Small>`, default hasher, sized for its entries",
    ));

    let region = Region::new(GLOBAL);
    let raw: moka::future::Cache<u64, Arc<Small>> =
        moka::future::Cache::builder().max_capacity(2 * n).build();
    rt.block_on(async {
        for id in 0..n {
            raw.insert(id, Arc::new(small(id))).await;
        }
        raw.run_pending_tasks().await;
    });
    rows.push((
        "raw_moka",
        per_entry(held(&region)),
        "`moka::future::Cache<u64, Arc<Small>>`, default hasher",
    ));

    let region = Region::new(GLOBAL);
    rt.block_on(async {
        for id in 0..n {
            black_box(cached_plain(id).await);
        }
    });
    rows.push((
        "cached",
        per_entry(held(&region)),
        "`#[cached]` default store: `UnboundCache` (a hash map), no bound, no TTL",
    ));

    let region = Region::new(GLOBAL);
    rt.block_on(async {
        for id in 0..n {
            black_box(cached_lru_ttl(id).await);
        }
    });
    rows.push((
        "cached_lru_ttl",
        per_entry(held(&region)),
        "`#[cached(max_size = 100_000, ttl_secs)]`: `LruTtlCache`, which preallocates its capacity",
    ));

    let region = Region::new(GLOBAL);
    let map: HashMap<u64, Small> = (0..n).map(|id| (id, small(id))).collect();
    rows.push((
        "hashmap",
        per_entry(held(&region)),
        "`HashMap<u64, Small>` built at its final size",
    ));

    let mut report = format!("side\tbytes_per_entry\tstore\t(entries: {n})\n");
    for (side, bytes, what) in &rows {
        report.push_str(&format!("{side}\t{bytes:.0}\t{what}\n"));
    }
    print!("{report}");
    write_extra("memory.tsv", &report);
    drop((raw, quick, map));
}
