//! The keyspace's own rules on a manual clock: a TTL read from the value, values not stored,
//! stale-while-revalidate, and a row of stats under its name.

use super::{Keyspace, Rules};
use crate::{Cache, Config, ManualClock};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

fn isolated(clock: &ManualClock) -> Cache {
    Cache::new(Config::new().clock(clock.clone()).ttl_jitter(0.0))
}

/// A value that says how long it may be kept: `(n, ttl in seconds)`.
type Quote = (u32, u64);

fn quote_ttl(quote: &Quote) -> Option<Duration> {
    (quote.1 > 0).then(|| Duration::from_secs(quote.1))
}

async fn call(space: &'static Keyspace, runs: &Arc<AtomicU32>, ttl_secs: u64) -> Quote {
    let runs = Arc::clone(runs);
    let rules = Rules::ttl(Duration::from_secs(60))
        .ttl_from(quote_ttl)
        .unless(|quote: &Quote| quote.0 == 0);
    space
        .remember(&"key", &["quotes"], rules, move || async move {
            (runs.fetch_add(1, SeqCst) + 1, ttl_secs)
        })
        .await
}

#[tokio::test]
async fn a_ttl_read_from_the_value_replaces_the_rules_ttl() {
    let clock = ManualClock::new();
    let cache = isolated(&clock);
    let space = Keyspace::named("keyspace_tests::ttl_from");
    let runs = Arc::new(AtomicU32::new(0));
    cache
        .scope(async {
            assert_eq!(call(space, &runs, 5).await, (1, 5));
            assert_eq!(call(space, &runs, 5).await, (1, 5));
            clock.advance(Duration::from_secs(6));
            // Past the value's own 5 s, long before the rules' 60 s.
            assert_eq!(call(space, &runs, 0).await, (2, 0));
            clock.advance(Duration::from_secs(30));
            // Without one of its own, the value keeps the rules' 60 s.
            assert_eq!(call(space, &runs, 0).await, (2, 0));
        })
        .await;
    assert_eq!(runs.load(SeqCst), 2);
}

#[tokio::test]
async fn values_unless_accepts_are_not_stored() {
    let clock = ManualClock::new();
    let cache = isolated(&clock);
    let space = Keyspace::named("keyspace_tests::unless");
    let rules = || Rules::ttl(Duration::from_secs(60)).unless(|n: &u32| *n == 0);
    let runs = Arc::new(AtomicU32::new(0));
    for _ in 0..3 {
        let runs = Arc::clone(&runs);
        let value = cache
            .scope(space.remember(&1u8, &[], rules(), move || async move {
                runs.fetch_add(1, SeqCst);
                0u32
            }))
            .await;
        assert_eq!(value, 0);
    }
    assert_eq!(runs.load(SeqCst), 3);
    let row = cache.stats();
    let counts = row.function("keyspace_tests::unless").map(|f| f.counts);
    assert_eq!(counts.map(|c| c.not_cached), Some(3));
}

#[tokio::test]
async fn a_revalidating_keyspace_answers_with_the_old_value_while_it_recomputes() {
    let clock = ManualClock::new();
    let cache = isolated(&clock);
    let space = Keyspace::revalidating("keyspace_tests::swr", Duration::from_secs(30));
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let first: u32 = cache
        .scope(
            space.remember(&(), &[], Rules::ttl(Duration::from_secs(10)), || async {
                1
            }),
        )
        .await;
    assert_eq!(first, 1);
    clock.advance(Duration::from_secs(11));
    // Expired, inside the window: the old value at once, the new one computed in the background.
    let stale: u32 = cache
        .scope(
            space.remember(&(), &[], Rules::ttl(Duration::from_secs(10)), || async {
                let _ = released.await;
                2
            }),
        )
        .await;
    assert_eq!(stale, 1);
    let _ = release.send(());
    // The background computation runs when this (single-threaded) test yields; until then,
    // callers keep the old value. The body given here (3) must never run.
    let mut seen: u32 = 1;
    for _ in 0..100 {
        tokio::task::yield_now().await;
        seen = cache
            .scope(
                space.remember(&(), &[], Rules::ttl(Duration::from_secs(10)), || async {
                    3
                }),
            )
            .await;
        if seen != 1 {
            break;
        }
    }
    assert_eq!(seen, 2);
    let counts = cache
        .stats()
        .function("keyspace_tests::swr")
        .map(|f| f.counts);
    assert_eq!(counts.map(|c| c.revalidations), Some(1));
}

#[tokio::test]
async fn computations_are_timed_and_hits_are_not() {
    let clock = ManualClock::new();
    let cache = isolated(&clock);
    let space = Keyspace::named("keyspace_tests::timing");
    for _ in 0..5 {
        let _: u8 = cache
            .scope(
                space.remember(&0u8, &[], Rules::ttl(Duration::from_secs(60)), || async {
                    7
                }),
            )
            .await;
    }
    let stats = cache.stats();
    let row = stats.function("keyspace_tests::timing");
    assert_eq!(row.map(|f| f.compute.count), Some(1));
    assert_eq!(row.map(|f| f.counts.hits), Some(4));
}
