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
    Config::new()
        .max_capacity_bytes(capacity)
        .install()
        .unwrap();
    for i in 0..1000 {
        assert_eq!(blob(i).await.len(), 1000);
    }
    cached_query::run_pending_tasks().await;
    let counts = cached_query::stats().function("blob").unwrap().counts;
    assert!(counts.weighted_size <= capacity, "{counts:?}");
    assert!(counts.entries > 0 && counts.entries < 1000, "{counts:?}");
    // Each entry weighs its encoded size plus the per-entry overhead.
    assert!(
        counts.weighted_size >= counts.entries * (1000 + 320),
        "{counts:?}"
    );
    assert!(counts.evictions > 0, "{counts:?}");
    assert_eq!(counts.misses, 1000);
}
