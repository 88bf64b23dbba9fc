//! The rest of the manual API: `pull`, entries that never expire, counters, `ttl_of` and
//! `age_of`; each test in an instance of its own on a manual clock.

use cached_query::{Cache, Config, FOREVER, ManualClock, cached_query};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

fn instance() -> (Cache, ManualClock) {
    let clock = ManualClock::new();
    let cache = Cache::new(Config::new().clock(clock.clone()).ttl_jitter(0.0));
    (cache, clock)
}

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn pull_returns_the_value_once_then_none() {
    let (cache, _clock) = instance();
    cache.put(&"token", 1234u32, MINUTE, &[]).await;
    assert_eq!(cache.pull(&"token").await, Some(1234u32));
    assert_eq!(cache.pull::<_, u32>(&"token").await, None);
    assert!(!cache.has(&"token").await);

    // The free function, in the current instance.
    let pulled = cache
        .scope(async {
            cached_query::put(&"free", 5u8, MINUTE, &[]).await;
            let first: Option<u8> = cached_query::pull(&"free").await;
            let second: Option<u8> = cached_query::pull(&"free").await;
            (first, second)
        })
        .await;
    assert_eq!(pulled, (Some(5), None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_concurrent_pulls_one_gets_the_value() {
    let (cache, _clock) = instance();
    cache.put(&"prize", 7u64, MINUTE, &[]).await;
    let pulls: Vec<_> = (0..64)
        .map(|_| tokio::spawn(async move { cache.pull::<_, u64>(&"prize").await }))
        .collect();
    let mut winners = 0;
    for pull in pulls {
        winners += usize::from(pull.await.unwrap() == Some(7));
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn a_pull_of_another_type_leaves_the_entry() {
    let (cache, _clock) = instance();
    cache.put(&"typed", 1u32, MINUTE, &[]).await;
    assert_eq!(cache.pull::<_, String>(&"typed").await, None);
    assert_eq!(cache.get::<_, u32>(&"typed").await, Some(1));
}

static FOREVER_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "forever")]
async fn manual_extras_forever(x: u32) -> u32 {
    FOREVER_RUNS.fetch_add(1, Ordering::SeqCst) + x
}

#[tokio::test]
async fn forever_entries_outlive_any_clock() {
    let (cache, clock) = instance();
    cache
        .put_forever(&"settings", "dark".to_string(), &["settings"])
        .await;
    let first = cache.scope(manual_extras_forever(1)).await;
    clock.advance(Duration::from_secs(100 * 365 * 24 * 3600));
    assert_eq!(
        cache.get::<_, String>(&"settings").await.as_deref(),
        Some("dark")
    );
    assert_eq!(cache.ttl_of(&"settings").await, Some(FOREVER));
    assert_eq!(cache.scope(manual_extras_forever(1)).await, first);
    assert_eq!(FOREVER_RUNS.load(Ordering::SeqCst), 1);

    // Still invalidated through its tags.
    cache.invalidate_tag("settings").await.unwrap();
    assert_eq!(cache.get::<_, String>(&"settings").await, None);
}

#[tokio::test]
async fn ttl_of_and_age_of_follow_the_clock() {
    let (cache, clock) = instance();
    assert_eq!(cache.ttl_of(&"session").await, None);
    assert_eq!(cache.age_of(&"session").await, None);
    cache.put(&"session", 1u8, MINUTE, &[]).await;
    clock.advance(Duration::from_secs(20));
    assert_eq!(
        cache.ttl_of(&"session").await,
        Some(Duration::from_secs(40))
    );
    assert_eq!(
        cache.age_of(&"session").await,
        Some(Duration::from_secs(20))
    );
    clock.advance(Duration::from_secs(40));
    assert_eq!(cache.ttl_of(&"session").await, None, "expired");
    assert_eq!(cache.age_of(&"session").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_increments_count_a_thousand() {
    let (cache, _clock) = instance();
    let increments: Vec<_> = (0..1_000)
        .map(|_| tokio::spawn(async move { cache.increment(&"hits", 1, MINUTE).await }))
        .collect();
    let mut seen = Vec::new();
    for increment in increments {
        seen.push(increment.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=1_000).collect::<Vec<i64>>(),
        "each saw its own count"
    );
    assert_eq!(cache.get::<_, i64>(&"hits").await, Some(1_000));
}

#[tokio::test]
async fn a_counter_expires_with_its_ttl_which_increments_do_not_extend() {
    let (cache, clock) = instance();
    assert_eq!(cache.increment(&"rate", 1, MINUTE).await, 1);
    clock.advance(Duration::from_secs(59));
    assert_eq!(cache.increment(&"rate", 1, MINUTE).await, 2);
    assert_eq!(cache.ttl_of(&"rate").await, Some(Duration::from_secs(1)));
    assert_eq!(
        cache.age_of(&"rate").await,
        Some(Duration::from_secs(59)),
        "a counter's age runs from its first increment"
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        cache.get::<_, i64>(&"rate").await,
        None,
        "expired at its TTL"
    );
    assert_eq!(
        cache.increment(&"rate", 1, MINUTE).await,
        1,
        "a new counter"
    );
}

#[tokio::test]
async fn decrement_and_a_counter_started_from_a_put_integer() {
    let (cache, _clock) = instance();
    cache.put(&"seats", 10i64, MINUTE, &[]).await;
    assert_eq!(cache.decrement(&"seats", 3, MINUTE).await, 7);
    assert_eq!(cache.increment(&"seats", 1, MINUTE).await, 8);
    assert_eq!(cache.pull::<_, i64>(&"seats").await, Some(8));
    assert_eq!(
        cache.decrement(&"seats", 1, MINUTE).await,
        -1,
        "a new counter"
    );
    assert_eq!(cache.increment(&"big", i64::MAX, MINUTE).await, i64::MAX);
    assert_eq!(
        cache.increment(&"big", 1, MINUTE).await,
        i64::MAX,
        "an overflowing increment changes nothing"
    );
}

#[tokio::test]
async fn counters_are_not_reset_by_invalidations() {
    let (cache, _clock) = instance();
    cache.increment(&"views", 2, MINUTE).await;
    cache.invalidate_all().await.unwrap();
    assert_eq!(cache.increment(&"views", 1, MINUTE).await, 3);
    assert!(cache.forget_key(&"views").await);
    assert_eq!(cache.increment(&"views", 1, MINUTE).await, 1);
}
