//! Unquoted durations mean what they say (issue 12): `ttl = 100ms` is a tenth of a second, not
//! 100 seconds. Each test runs in its own cache instance on its own manual clock, without
//! jitter, so no test sleeps and none sees another's entries.

use crate::Runs;
use cached_query::{Cache, Config, ManualClock, cached_query};
use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

/// A cache on `clock` with exact TTLs.
fn cache_on(clock: &ManualClock) -> Cache {
    Cache::new(Config::new().clock(clock.clone()).ttl_jitter(0.0))
}

/// Runs `future` inside `cache`.
async fn within<F: Future>(cache: &Cache, future: F) -> F::Output {
    cache.scope(future).await
}

static MS_CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
static MS_RUNS: Runs = Runs::new();

#[cached_query(ttl = 100ms)]
async fn hundred_ms() -> u32 {
    MS_RUNS.bump();
    MS_RUNS.get()
}

#[tokio::test]
async fn an_unquoted_ttl_in_milliseconds_expires_after_those_milliseconds() {
    let cache = cache_on(&MS_CLOCK);
    assert_eq!(within(&cache, hundred_ms()).await, 1);
    MS_CLOCK.advance(Duration::from_millis(99));
    assert_eq!(within(&cache, hundred_ms()).await, 1, "fresh at 99 ms");
    MS_CLOCK.advance(Duration::from_millis(1));
    assert_eq!(within(&cache, hundred_ms()).await, 2, "expired at 100 ms");
}

static COMPOUND_CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
static COMPOUND_RUNS: Runs = Runs::new();

#[cached_query(ttl = 1h30m)]
async fn ninety_minutes() -> u32 {
    COMPOUND_RUNS.bump();
    COMPOUND_RUNS.get()
}

#[tokio::test]
async fn an_unquoted_compound_ttl_reads_every_unit() {
    let cache = cache_on(&COMPOUND_CLOCK);
    assert_eq!(within(&cache, ninety_minutes()).await, 1);
    COMPOUND_CLOCK.advance(Duration::from_secs(90 * 60 - 1));
    assert_eq!(
        within(&cache, ninety_minutes()).await,
        1,
        "fresh at 1h29m59s"
    );
    COMPOUND_CLOCK.advance(Duration::from_secs(1));
    assert_eq!(
        within(&cache, ninety_minutes()).await,
        2,
        "expired at 1h30m"
    );
}

static NONE_CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
static NONE_RUNS: Runs = Runs::new();

#[cached_query(ttl = 10m, cache_none, none_ttl = 2m)]
async fn maybe_absent() -> Option<u32> {
    NONE_RUNS.bump();
    None
}

#[tokio::test]
async fn an_unquoted_none_ttl_in_minutes_is_minutes() {
    let cache = cache_on(&NONE_CLOCK);
    within(&cache, maybe_absent()).await;
    NONE_CLOCK.advance(Duration::from_secs(119));
    within(&cache, maybe_absent()).await;
    assert_eq!(
        NONE_RUNS.get(),
        1,
        "a cached `None` is fresh at 1m59s, not gone at 2 s"
    );
    NONE_CLOCK.advance(Duration::from_secs(1));
    within(&cache, maybe_absent()).await;
    assert_eq!(NONE_RUNS.get(), 2, "and expired at 2m");
}

static MIN_CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
static MIN_RUNS: Runs = Runs::new();

/// Takes 10 ms of the cache's clock: worth storing with `min_compute = 5ms`, which would not be
/// the case if `5ms` were read as 5 seconds.
#[cached_query(min_compute = 5ms)]
async fn ten_ms_of_work(x: u32) -> u32 {
    MIN_RUNS.bump();
    MIN_CLOCK.advance(Duration::from_millis(10));
    x
}

#[tokio::test]
async fn an_unquoted_min_compute_in_milliseconds_is_milliseconds() {
    let cache = cache_on(&MIN_CLOCK);
    within(&cache, ten_ms_of_work(1)).await;
    within(&cache, ten_ms_of_work(1)).await;
    assert_eq!(MIN_RUNS.get(), 1, "a 10 ms computation is stored");
}
