//! The store stays within its byte capacity, evicting (and counting) what does not fit.

#![allow(missing_docs, clippy::unwrap_used)] // a test crate: failing loudly is the point

use cached_query::{Cache, Config, cached_query};

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
