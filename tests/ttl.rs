//! TTL expiry, measured on a manual clock: no sleeping, no timing flakiness. The whole binary
//! shares one runtime configured with that clock and no jitter, so the tests run one at a time
//! (they all move the same clock).

#![allow(missing_docs, clippy::unwrap_used)] // a test crate: failing loudly is the point

use cached_query::{Config, ManualClock, cached_query};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::MutexGuard;

mod support;

static CLOCK: LazyLock<ManualClock> = LazyLock::new(|| {
    support::install_manual_clock(Config::new().default_ttl(Duration::from_secs(30)))
});

/// Tests move one shared clock: one at a time.
async fn clock() -> (MutexGuard<'static, ()>, &'static ManualClock) {
    (support::one_at_a_time().await, &CLOCK)
}

static FIVE_MIN_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "5m")]
async fn five_minutes(x: u32) -> u32 {
    FIVE_MIN_RUNS.fetch_add(1, Ordering::SeqCst) + x
}

#[tokio::test]
async fn an_entry_expires_exactly_at_its_ttl() {
    let (_serial, clock) = clock().await;
    let first = five_minutes(0).await;
    clock.advance(Duration::from_secs(299));
    assert_eq!(five_minutes(0).await, first, "still fresh at 4m59s");
    clock.advance(Duration::from_secs(1));
    assert_ne!(five_minutes(0).await, first, "expired at 5m");
    assert_eq!(FIVE_MIN_RUNS.load(Ordering::SeqCst), 2);
}

static DEFAULT_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query]
async fn default_ttl() -> u32 {
    DEFAULT_RUNS.fetch_add(1, Ordering::SeqCst)
}

#[tokio::test]
async fn functions_without_ttl_use_the_configured_default() {
    let (_serial, clock) = clock().await;
    default_ttl().await;
    clock.advance(Duration::from_secs(29));
    default_ttl().await;
    assert_eq!(DEFAULT_RUNS.load(Ordering::SeqCst), 1);
    clock.advance(Duration::from_secs(1));
    default_ttl().await;
    assert_eq!(DEFAULT_RUNS.load(Ordering::SeqCst), 2);
}

static MS_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "1h30m")]
async fn compound() -> u32 {
    MS_RUNS.fetch_add(1, Ordering::SeqCst)
}

#[tokio::test]
async fn compound_durations_are_understood() {
    let (_serial, clock) = clock().await;
    compound().await;
    clock.advance(Duration::from_secs(90 * 60 - 1));
    compound().await;
    assert_eq!(MS_RUNS.load(Ordering::SeqCst), 1);
    clock.advance(Duration::from_secs(1));
    compound().await;
    assert_eq!(MS_RUNS.load(Ordering::SeqCst), 2);
}

static NONE_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "10m", cache_none, none_ttl = "30s")]
async fn maybe(found: bool) -> Option<u32> {
    NONE_RUNS.fetch_add(1, Ordering::SeqCst);
    found.then_some(1)
}

#[tokio::test]
async fn a_cached_none_has_its_own_shorter_ttl() {
    let (_serial, clock) = clock().await;
    assert_eq!(maybe(false).await, None);
    assert_eq!(maybe(true).await, Some(1));
    clock.advance(Duration::from_secs(29));
    maybe(false).await;
    maybe(true).await;
    assert_eq!(NONE_RUNS.load(Ordering::SeqCst), 2);
    clock.advance(Duration::from_secs(1));
    maybe(false).await;
    maybe(true).await;
    assert_eq!(
        NONE_RUNS.load(Ordering::SeqCst),
        3,
        "the None expired, the Some did not"
    );
}

static REFRESH_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = 60)]
async fn refreshed() -> u32 {
    REFRESH_RUNS.fetch_add(1, Ordering::SeqCst)
}

#[tokio::test]
async fn a_refresh_restarts_the_ttl() {
    let (_serial, clock) = clock().await;
    refreshed().await;
    clock.advance(Duration::from_secs(50));
    cached_query::refresh(refreshed()).await;
    clock.advance(Duration::from_secs(50));
    assert_eq!(
        refreshed().await,
        1,
        "100 s after the first run, 50 s after the refresh"
    );
    assert_eq!(REFRESH_RUNS.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn installing_a_config_twice_is_refused() {
    let (_serial, _clock) = clock().await;
    assert_eq!(Config::new().install(), Err(cached_query::AlreadyInstalled));
}

static SWEPT_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "1m")]
async fn swept(x: u32) -> Vec<u8> {
    SWEPT_RUNS.fetch_add(1, Ordering::SeqCst);
    vec![x as u8; 100]
}

#[tokio::test]
async fn expired_entries_nobody_asks_for_again_give_their_memory_back() {
    let (_serial, clock) = clock().await;
    for x in 0..10 {
        swept(x).await;
    }
    cached_query::run_pending_tasks().await;
    let counts = || cached_query::stats().function("swept").unwrap().counts;
    assert_eq!(counts().entries, 10);
    clock.advance(Duration::from_secs(61));
    cached_query::run_pending_tasks().await;
    assert_eq!((counts().entries, counts().weighted_size), (0, 0));
    assert_eq!(counts().expirations, 10);
    assert_eq!(
        SWEPT_RUNS.load(Ordering::SeqCst),
        10,
        "sweeping runs no body"
    );
}

#[tokio::test]
async fn a_manual_entry_lives_for_the_ttl_it_was_given() {
    let (_serial, clock) = clock().await;
    cached_query::put(&"ttl-manual", 1u8, Duration::from_secs(10), &[]).await;
    clock.advance(Duration::from_secs(9));
    assert_eq!(cached_query::get::<_, u8>(&"ttl-manual").await, Some(1));
    clock.advance(Duration::from_secs(1));
    assert_eq!(cached_query::get::<_, u8>(&"ttl-manual").await, None);
}

static SOURCE_DOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static PRICE_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "1m", stale_if_error = "5m", tags = ["price-feed"])]
async fn price_feed(sku: u32) -> Result<u32, String> {
    let run = PRICE_RUNS.fetch_add(1, Ordering::SeqCst);
    if SOURCE_DOWN.load(Ordering::SeqCst) {
        Err(format!("feed down (run {run})"))
    } else {
        Ok(sku * 100 + run)
    }
}

#[tokio::test]
async fn stale_if_error_returns_the_last_good_value_within_its_window_only() {
    let (_serial, clock) = clock().await;
    SOURCE_DOWN.store(false, Ordering::SeqCst);
    let fresh = price_feed(1).await.unwrap();
    let served = |c: &cached_query::Counts| c.stale_served;
    let counts = || cached_query::stats().function("price_feed").unwrap().counts;
    let before = counts();

    // Expired, and the source fails: the last good value comes back, and the body did run.
    SOURCE_DOWN.store(true, Ordering::SeqCst);
    clock.advance(Duration::from_secs(61));
    let runs = PRICE_RUNS.load(Ordering::SeqCst);
    assert_eq!(price_feed(1).await, Ok(fresh));
    assert_eq!(
        PRICE_RUNS.load(Ordering::SeqCst),
        runs + 1,
        "the function was tried"
    );
    assert_eq!(served(&counts().since(&before)), 1);

    // Still inside the window (1 m TTL + 5 m): still the stale value.
    clock.advance(Duration::from_secs(4 * 60));
    assert_eq!(price_feed(1).await, Ok(fresh));

    // Past the window: the error.
    clock.advance(Duration::from_secs(2 * 60));
    assert!(
        price_feed(1).await.is_err(),
        "outside the window the error is returned"
    );

    // The source recovers: a new value, cached again.
    SOURCE_DOWN.store(false, Ordering::SeqCst);
    let recovered = price_feed(1).await.unwrap();
    assert_ne!(recovered, fresh);
    assert_eq!(price_feed(1).await, Ok(recovered));
}

#[tokio::test]
async fn an_entry_invalidated_by_a_tag_is_never_served_stale() {
    let (_serial, clock) = clock().await;
    SOURCE_DOWN.store(false, Ordering::SeqCst);
    price_feed(2).await.unwrap();
    clock.advance(Duration::from_secs(61));
    cached_query::invalidate_tag("price-feed").await.unwrap();
    SOURCE_DOWN.store(true, Ordering::SeqCst);
    assert!(
        price_feed(2).await.is_err(),
        "invalidated data is not a fallback"
    );
    SOURCE_DOWN.store(false, Ordering::SeqCst);
}
