//! The store stays within its byte capacity, evicting (and counting) what does not fit.

#![allow(missing_docs, clippy::unwrap_used)] // a test crate: failing loudly is the point

use cached_query::{Cache, Config, cached_query};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::SeqCst};

#[cached_query]
async fn blob(i: u32) -> Vec<u8> {
    vec![i as u8; 1000]
}

#[tokio::test]
async fn entries_beyond_the_capacity_are_evicted_and_counted() {
    let capacity = 64 * 1024;
    // Each test has its own instance: tests run in parallel, and a shared store would let one
    // test's entries evict the other's.
    let cache = Cache::new(Config::new().max_capacity_bytes(capacity));
    for i in 0..1000 {
        assert_eq!(cache.scope(blob(i)).await.len(), 1000);
    }
    cache.run_pending_tasks().await;
    let counts = cache.stats().function("blob").unwrap().counts;
    assert!(counts.weighted_size <= capacity, "{counts:?}");
    assert!(counts.entries > 0 && counts.entries < 1000, "{counts:?}");
    // Each entry weighs its encoded size plus what it holds besides (its own struct, its
    // stamps, the engine's bookkeeping): over 100 bytes on either engine.
    assert!(
        counts.weighted_size >= counts.entries * (1000 + 100),
        "{counts:?}"
    );
    assert!(counts.evictions > 0, "{counts:?}");
    assert_eq!(counts.misses, 1000);
}

#[cached_query(tags = ["item:{id}"])]
async fn tagged_item(id: u32) -> Vec<u8> {
    vec![id as u8; 1000]
}

#[tokio::test]
async fn tag_cells_of_evicted_entries_are_collected() {
    let cache = Cache::new(Config::new().max_capacity_bytes(64 * 1024));
    for id in 0..20_000 {
        cache.scope(tagged_item(id)).await;
    }
    cache.run_pending_tasks().await;
    let stats = cache.stats();
    let live = stats.function("tagged_item").unwrap().counts.entries;
    // 20,000 distinct tags were created; only the cells of entries still held survive, plus
    // dead ones not yet swept (at most the live count again, and a small floor per shard).
    assert!(
        stats.tag_cells < 2 * live + 16 * 64 + 64,
        "{} cells for {live} entries",
        stats.tag_cells
    );
}

static GROWING_RUNS: AtomicU32 = AtomicU32::new(0);
static GROWING_LEN: AtomicUsize = AtomicUsize::new(10);

#[cached_query]
async fn growing(id: u32) -> Vec<u8> {
    GROWING_RUNS.fetch_add(1, SeqCst);
    vec![id as u8; GROWING_LEN.load(SeqCst)]
}

/// On every engine alike (quick_cache refuses it at insert; moka would admit it and serve it
/// until its housekeeping evicted it): an entry heavier than the whole capacity is not stored,
/// is counted as an eviction, and takes the key's previous entry with it. No housekeeping is
/// run before the reads.
#[tokio::test]
async fn an_entry_heavier_than_the_capacity_is_refused_at_once() {
    let cache = Cache::new(Config::new().max_capacity_bytes(4 * 1024));
    let counts = || cache.stats().function("growing").unwrap().counts;
    assert_eq!(cache.scope(growing(1)).await.len(), 10);
    assert_eq!(cache.scope(growing(1)).await.len(), 10);
    assert_eq!(GROWING_RUNS.load(SeqCst), 1, "a small value is kept");

    GROWING_LEN.store(10_000, SeqCst);
    let refreshed = cache.scope(cached_query::refresh(growing(1))).await;
    assert_eq!(refreshed.len(), 10_000, "the caller still gets its value");
    assert_eq!(cache.scope(growing(1)).await.len(), 10_000);
    assert_eq!(
        GROWING_RUNS.load(SeqCst),
        3,
        "neither the old entry nor the new one served"
    );
    let after = counts();
    assert_eq!((after.entries, after.weighted_size), (0, 0), "{after:?}");
    assert_eq!(after.evictions, 2, "each refusal is an eviction: {after:?}");
}
