//! Entry accounting on every engine: after `run_pending_tasks()`, `entries` and `weighted_size`
//! are exactly what the store holds, and every entry that left is counted once, as an eviction
//! (capacity), an expiration (TTL, on a manual clock) or a removal (`forget`, invalidation).
//! Each engine in its own `Cache` instance, so one binary checks both whatever the environment.

#![allow(missing_docs, clippy::unwrap_used)] // a test crate: failing loudly is the point

use cached_query::{Cache, Config, Counts, Engine, ManualClock, cached_query};
use std::time::Duration;

#[cached_query(ttl = "1m", tags = ["row:{id}"])]
async fn row(id: u32) -> Vec<u8> {
    vec![id as u8; 100]
}

fn engines() -> Vec<Engine> {
    vec![
        Engine::QuickCache,
        #[cfg(feature = "moka")]
        Engine::Moka,
    ]
}

fn instance(engine: Engine, capacity: u64, clock: &ManualClock) -> Cache {
    Cache::new(
        Config::new()
            .engine(engine)
            .max_capacity_bytes(capacity)
            .clock(clock.clone())
            .ttl_jitter(0.0),
    )
}

async fn settled(cache: &Cache) -> Counts {
    cache.run_pending_tasks().await;
    cache.stats().total
}

/// What one entry of `row` weighs on `engine`: all of them weigh the same.
async fn weight_of_one(engine: Engine) -> u64 {
    let cache = instance(engine, 1 << 30, &ManualClock::new());
    cache.scope(row(0)).await;
    let counts = settled(&cache).await;
    assert_eq!(counts.entries, 1, "{engine:?}");
    counts.weighted_size
}

#[tokio::test]
async fn entries_and_weight_are_exact_within_the_capacity() {
    for engine in engines() {
        let weight = weight_of_one(engine).await;
        assert!(
            weight > 100,
            "{engine:?}: the value's 100 bytes and more: {weight}"
        );
        let cache = instance(engine, 1 << 30, &ManualClock::new());
        for id in 0..50 {
            cache.scope(row(id)).await;
        }
        let counts = settled(&cache).await;
        assert_eq!((counts.entries, counts.misses), (50, 50), "{engine:?}");
        assert_eq!(counts.weighted_size, 50 * weight, "{engine:?}");

        // Removed by `forget`, by an invalidation (found stale on the next read), replaced by
        // `refresh`: each leaves the counts exact.
        cache.scope(cached_query::forget(row(1))).await;
        cache.invalidate_tag("row:2").await.unwrap();
        cache.scope(row(2)).await; // stale: dropped, recomputed
        cache.scope(cached_query::refresh(row(3))).await;
        let counts = settled(&cache).await;
        assert_eq!(counts.entries, 49, "{engine:?}: {counts:?}");
        assert_eq!(counts.weighted_size, 49 * weight, "{engine:?}");
        assert_eq!(counts.stale, 1, "{engine:?}: {counts:?}");
        assert_eq!((counts.evictions, counts.expirations), (0, 0), "{engine:?}");
    }
}

#[tokio::test]
async fn what_does_not_fit_is_evicted_and_counted_once() {
    for engine in engines() {
        let weight = weight_of_one(engine).await;
        let capacity = 40 * weight;
        let cache = instance(engine, capacity, &ManualClock::new());
        for id in 0..400 {
            cache.scope(row(id)).await;
        }
        let counts = settled(&cache).await;
        assert!(counts.weighted_size <= capacity, "{engine:?}: {counts:?}");
        assert_eq!(counts.weighted_size, counts.entries * weight, "{engine:?}");
        assert!(counts.entries > 0, "{engine:?}: {counts:?}");
        assert_eq!(
            counts.entries + counts.evictions,
            400,
            "{engine:?}: every entry is either held or counted as evicted: {counts:?}"
        );
    }
}

#[tokio::test]
async fn expired_entries_are_swept_and_counted_once() {
    for engine in engines() {
        let clock = ManualClock::new();
        let cache = instance(engine, 1 << 30, &clock);
        for id in 0..30 {
            cache.scope(row(id)).await;
        }
        clock.advance(Duration::from_secs(70));
        // Half are read again after expiry: found expired and removed by that read...
        for id in 0..15 {
            cache.scope(row(id)).await;
        }
        clock.advance(Duration::from_secs(70));
        // ...the rest (and the 15 recomputed ones, now expired too) by the sweep.
        let counts = settled(&cache).await;
        assert_eq!((counts.entries, counts.weighted_size), (0, 0), "{engine:?}");
        assert_eq!(counts.expirations, 45, "{engine:?}: {counts:?}");
        assert_eq!(counts.evictions, 0, "{engine:?}");
    }
}
