//! A hit allocates nothing: key derivation, the mode check, the store lookup, the freshness check,
//! the stats and the clone of a small value all run without touching the heap once the entry and
//! this thread's buffers are warm.
//!
//! Its own test binary, because it installs a global allocator: `allocation-counter` counts the
//! allocations of the current thread only, so the harness, moka's maintenance thread and other
//! tests running in parallel cannot pollute a measurement. This is a correctness test, not a
//! timed one.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // a test crate

use cached_query::cached_query;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

// Linking the crate installs its counting `#[global_allocator]` in this binary.
use allocation_counter as _;

/// A small value without heap fields: cloning it out of the cache allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Small {
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

static RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "10m")]
async fn one_arg(id: u64) -> Small {
    RUNS.fetch_add(1, Ordering::SeqCst);
    small(id)
}

#[cached_query(ttl = "10m", tags = ["plain", "item:{id}"])]
async fn tagged(id: u64) -> Option<Small> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    Some(small(id))
}

#[cached_query(ttl = "10m", local)]
async fn local_three(id: u64, name: &str, flags: (u8, bool)) -> Result<Small, String> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(small(id + name.len() as u64 + u64::from(flags.0)))
}

/// The control: cloning a `String` out of the cache allocates, and the test sees it.
#[cached_query(ttl = "10m")]
async fn heap_value(id: u64) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    format!("value {id}")
}

struct Repo {
    shard: u32,
}

impl Serialize for Repo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.shard)
    }
}

impl Repo {
    #[cached_query(ttl = "10m")]
    async fn method(&self, id: u64) -> Small {
        RUNS.fetch_add(1, Ordering::SeqCst);
        small(id + u64::from(self.shard))
    }
}

/// moka drains its read log inline, inside one `get` out of every 64 (`READ_LOG_FLUSH_POINT`),
/// and that maintenance boxes a future: the store's amortised bookkeeping, which a raw
/// `moka::future::Cache::get` pays the same way. Each round therefore starts right after the
/// maintenance has run, and stays below that many hits, so whatever allocates in it is ours.
const HITS_PER_ROUND: u64 = 48;
const ROUNDS: u64 = 20;

/// Warms `call` (the entry, the key buffer, the runtime's lazies), then counts the allocations
/// of `ROUNDS * HITS_PER_ROUND` more calls on this thread, each a hit.
fn allocations_of_hits<F, Fut>(rt: &tokio::runtime::Runtime, call: F) -> u64
where
    F: Fn(u64) -> Fut,
    Fut: Future,
{
    rt.block_on(async {
        for i in 0..200 {
            call(i % 4).await;
        }
    });
    let runs_before = RUNS.load(Ordering::SeqCst);
    let mut allocations = 0;
    for _ in 0..ROUNDS {
        rt.block_on(cached_query::run_pending_tasks());
        // Boxed out here: tokio's `block_on` boxes a large future itself, inside the window.
        let hits = Box::pin(async {
            for i in 0..HITS_PER_ROUND {
                std::hint::black_box(call(i % 4).await);
            }
        });
        let info = allocation_counter::measure(|| rt.block_on(hits));
        allocations += info.count_total;
    }
    assert_eq!(
        RUNS.load(Ordering::SeqCst),
        runs_before,
        "every measured call must be a hit"
    );
    allocations
}

#[test]
fn a_hit_does_not_allocate() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    // The counter works here: a measured allocation is seen.
    let seen = allocation_counter::measure(|| drop(std::hint::black_box(vec![1u8; 64])));
    assert_eq!(seen.count_total, 1, "the counting allocator is installed");

    assert_eq!(allocations_of_hits(&rt, one_arg), 0, "one u64 argument");
    assert_eq!(allocations_of_hits(&rt, tagged), 0, "with tags");
    assert_eq!(
        allocations_of_hits(
            &rt,
            |i| async move { local_three(i, "abc", (3, true)).await }
        ),
        0,
        "`local`, three arguments including a &str"
    );
    let repo = Repo { shard: 9 };
    assert_eq!(
        allocations_of_hits(&rt, |i| repo.method(i)),
        0,
        "a method: receiver and `Self`'s type name in the key"
    );

    assert_eq!(
        allocations_of_hits(&rt, heap_value),
        ROUNDS * HITS_PER_ROUND,
        "the control: a `String` value is cloned out of the cache, one allocation per hit"
    );

    let hits = cached_query::stats().total.hits;
    assert!(
        hits >= 5 * ROUNDS * HITS_PER_ROUND,
        "the calls were counted as hits: {hits}"
    );
}
