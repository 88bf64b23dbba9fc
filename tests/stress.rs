//! Interleaves thousands of cached reads with concurrent invalidations on a multi-threaded
//! runtime, and checks the promise of tags: no call returns a value computed before the last
//! invalidation of its tags that had completed when the call started.

#![allow(missing_docs, clippy::unwrap_used)] // a test crate: failing loudly is the point

use cached_query::cached_query;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

const KEYS: usize = 8;

/// The "database": a version per key, bumped by writers.
static DATA: [AtomicU64; KEYS] = [const { AtomicU64::new(0) }; KEYS];
/// Per key, the highest version whose invalidation has completed.
static INVALIDATED: [AtomicU64; KEYS] = [const { AtomicU64::new(0) }; KEYS];

#[cached_query(ttl = "1h", tags = ["row:{key}"])]
async fn read_row(key: usize) -> u64 {
    let version = DATA[key].load(SeqCst);
    // Widen the window between reading the data and storing the result.
    tokio::task::yield_now().await;
    version
}

async fn write_row(key: usize) {
    let version = DATA[key].fetch_add(1, SeqCst) + 1;
    cached_query::invalidate_tag(&format!("row:{key}"))
        .await
        .unwrap();
    INVALIDATED[key].fetch_max(version, SeqCst);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_value_older_than_a_completed_invalidation_is_ever_served() {
    const READERS: usize = 16;
    const READS_EACH: usize = 1000;
    const WRITES: usize = 2000;

    let mut tasks = Vec::new();
    for reader in 0..READERS {
        tasks.push(tokio::spawn(async move {
            let mut hits_checked = 0;
            for i in 0..READS_EACH {
                let key = (reader * 7 + i) % KEYS;
                let floor = INVALIDATED[key].load(SeqCst);
                let seen = read_row(key).await;
                assert!(
                    seen >= floor,
                    "key {key}: served version {seen}, but version {floor} was invalidated before the call"
                );
                hits_checked += 1;
            }
            hits_checked
        }));
    }
    tasks.push(tokio::spawn(async {
        for i in 0..WRITES {
            write_row(i % KEYS).await;
            if i % 4 == 0 {
                tokio::task::yield_now().await;
            }
        }
        0
    }));
    let mut reads = 0;
    for task in tasks {
        reads += task.await.unwrap();
    }
    assert_eq!(reads, READERS * READS_EACH);
    let counts = cached_query::stats().function("read_row").unwrap().counts;
    assert!(counts.hits > 0, "the cache served something: {counts:?}");
    assert!(
        counts.stale > 0,
        "invalidations raced with cached entries: {counts:?}"
    );
}
