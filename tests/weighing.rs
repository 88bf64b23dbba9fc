//! The byte bound holds for values no serializer measures: `local` values and cached errors are
//! weighed by what they own on the heap (their `Weigh` impl, else their encoded size when they
//! are `Serialize`), not by their `size_of`. A 1 MiB `Vec` counts as a mebibyte.

#![allow(missing_docs, clippy::unwrap_used)] // a test crate: failing loudly is the point

use cached_query::{Cache, Config, Counts, Weigh, cached_query};

const MIB: usize = 1 << 20;
const CAPACITY: u64 = 8 * MIB as u64;

#[cached_query(local)]
async fn local_blob(i: u32) -> Vec<u8> {
    vec![i as u8; MIB]
}

/// A user type that owns heap memory and says how much.
#[derive(Clone)]
struct Report {
    lines: Vec<String>,
}

impl Weigh for Report {
    fn heap_bytes(&self) -> usize {
        self.lines.heap_bytes()
    }
}

#[cached_query(local)]
async fn local_report(i: u32) -> Report {
    Report {
        lines: vec!["x".repeat(1024); 1024 + i as usize % 2],
    }
}

/// Not `Weigh`, but `Serialize`: weighed by its encoded size.
#[derive(Clone, serde::Serialize)]
struct Encoded {
    bytes: Vec<u8>,
}

#[cached_query(local)]
async fn local_encoded(i: u32) -> Encoded {
    Encoded {
        bytes: vec![i as u8; MIB],
    }
}

#[derive(Clone, Debug)]
struct BigError(String);

#[cached_query(cache_err = |_: &BigError| true)]
async fn failing(i: u32) -> Result<u32, BigError> {
    Err(BigError("e".repeat(MIB + i as usize)))
}

impl Weigh for BigError {
    fn heap_bytes(&self) -> usize {
        self.0.heap_bytes()
    }
}

fn instance() -> Cache {
    Cache::new(Config::new().max_capacity_bytes(CAPACITY))
}

async fn settled(cache: &Cache) -> Counts {
    cache.run_pending_tasks().await;
    cache.stats().total
}

/// 40 calls of about a mebibyte each, into a cache of 8: within the bound, each entry charged
/// at least what its value holds, the rest evicted.
fn assert_bounded(counts: Counts, what: &str) {
    assert!(counts.weighted_size <= CAPACITY, "{what}: {counts:?}");
    assert!(
        counts.entries >= 1 && counts.entries <= 8,
        "{what}: at most 8 one-mebibyte entries fit in 8 MiB: {counts:?}"
    );
    assert!(
        counts.weighted_size >= counts.entries * MIB as u64,
        "{what}: each entry is charged its mebibyte: {counts:?}"
    );
    assert_eq!(counts.entries + counts.evictions, 40, "{what}: {counts:?}");
}

#[tokio::test]
async fn local_vectors_are_weighed_by_their_heap() {
    let cache = instance();
    for i in 0..40 {
        assert_eq!(cache.scope(local_blob(i)).await.len(), MIB);
    }
    assert_bounded(settled(&cache).await, "Vec<u8>");
}

#[tokio::test]
async fn local_values_of_user_types_are_weighed_by_their_weigh_impl() {
    let cache = instance();
    for i in 0..40 {
        cache.scope(local_report(i)).await;
    }
    assert_bounded(settled(&cache).await, "Report: Weigh");
}

#[tokio::test]
async fn local_serializable_values_are_weighed_by_their_encoding() {
    let cache = instance();
    for i in 0..40 {
        cache.scope(local_encoded(i)).await;
    }
    assert_bounded(settled(&cache).await, "Encoded: Serialize");
}

#[tokio::test]
async fn cached_errors_are_weighed_by_their_heap() {
    let cache = instance();
    for i in 0..40 {
        assert!(cache.scope(failing(i)).await.is_err());
    }
    assert_bounded(settled(&cache).await, "BigError: Weigh");
}
