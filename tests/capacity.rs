//! The store stays within its byte capacity, evicting (and counting) what does not fit.

#![allow(missing_docs, clippy::unwrap_used)] // a test crate: failing loudly is the point

use cached_query::{Config, cached_query};

#[cached_query]
async fn blob(i: u32) -> Vec<u8> {
    vec![i as u8; 1000]
}

#[tokio::test]
async fn entries_beyond_the_capacity_are_evicted_and_counted() {
    let capacity = 64 * 1024;
    // Both tests of this binary install the same configuration; whichever runs second finds it.
    let _ = Config::new().max_capacity_bytes(capacity).install();
    for i in 0..1000 {
        assert_eq!(blob(i).await.len(), 1000);
    }
    cached_query::run_pending_tasks().await;
    let counts = cached_query::stats().function("blob").unwrap().counts;
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
    let _ = Config::new().max_capacity_bytes(64 * 1024).install();
    for id in 0..20_000 {
        tagged_item(id).await;
    }
    cached_query::run_pending_tasks().await;
    let stats = cached_query::stats();
    let live = stats.function("tagged_item").unwrap().counts.entries;
    // 20,000 distinct tags were created; only the cells of entries still held survive, plus
    // dead ones not yet swept (at most the live count again, and a small floor per shard).
    assert!(
        stats.tag_cells < 2 * live + 16 * 64 + 64,
        "{} cells for {live} entries",
        stats.tag_cells
    );
}
