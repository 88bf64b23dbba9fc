//! `stale_while_revalidate` and `early_refresh`, on a manual clock: which value each caller gets,
//! whether and where the body ran, how many times, and the stats. The binary shares one runtime
//! with that clock and no jitter, so the tests run one at a time.

#![allow(missing_docs, clippy::unwrap_used)] // a test crate: failing loudly is the point

use cached_query::{Config, ManualClock, cached_query};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::time::Duration;
use tokio::sync::{MutexGuard, Semaphore};

mod support;

use support::{answer_at_once, block_on, counts, until};

static CLOCK: LazyLock<ManualClock> =
    LazyLock::new(|| support::install_manual_clock(Config::new()));

/// Tests move one shared clock: one at a time.
async fn clock() -> (MutexGuard<'static, ()>, &'static ManualClock) {
    (support::one_at_a_time().await, &CLOCK)
}

// ---------------------------------------------------------------------------------------------
// stale_while_revalidate

static QUOTE_RUNS: AtomicU32 = AtomicU32::new(0);
/// While set, the body waits for a permit of `QUOTE_GATE` before answering.
static QUOTE_GATED: AtomicBool = AtomicBool::new(false);
static QUOTE_GATE: Semaphore = Semaphore::const_new(0);
static QUOTE_FAILS: AtomicBool = AtomicBool::new(false);

#[cached_query(ttl = "1m", stale_while_revalidate = "10m", tags = ["quotes"])]
async fn quote(sku: u32) -> Result<u32, String> {
    let run = QUOTE_RUNS.fetch_add(1, SeqCst) + 1;
    if QUOTE_GATED.load(SeqCst) {
        QUOTE_GATE
            .acquire()
            .await
            .map_err(|e| e.to_string())?
            .forget();
    }
    if QUOTE_FAILS.load(SeqCst) {
        return Err(format!("source down (run {run})"));
    }
    Ok(sku * 1000 + run)
}

fn reset_quote() {
    QUOTE_GATED.store(false, SeqCst);
    QUOTE_FAILS.store(false, SeqCst);
}

#[tokio::test]
async fn within_stale_while_revalidate_100_concurrent_callers_get_the_old_value_at_once_and_the_body_runs_once()
 {
    let (_serial, clock) = clock().await;
    reset_quote();
    let first = quote(7).await.unwrap();
    let runs = QUOTE_RUNS.load(SeqCst);

    // Expired (1 m TTL), inside the 10 m window; the refresh will hang until released.
    clock.advance(Duration::from_secs(61));
    QUOTE_GATED.store(true, SeqCst);
    let before = counts("quote");

    // 100 callers at once, as tasks: every one finishes while the refresh is still held.
    let callers: Vec<_> = (0..100).map(|_| tokio::spawn(quote(7))).collect();
    until(|| callers.iter().all(tokio::task::JoinHandle::is_finished)).await;
    for caller in callers {
        assert_eq!(caller.await.unwrap(), Ok(first));
    }
    // And each call answers on its first poll: nothing waits for the refresh.
    for _ in 0..10 {
        assert_eq!(answer_at_once(quote(7)), Some(Ok(first)));
    }

    until(|| QUOTE_RUNS.load(SeqCst) == runs + 1).await;
    let during = counts("quote").since(&before);
    assert_eq!(during.revalidations, 1, "one background refresh");
    assert_eq!(during.hits, 110);
    assert_eq!(during.stale_served, 110);
    assert_eq!(during.misses, 0);

    // The refresh finishes: its value replaces the old one, and the body ran once in all.
    QUOTE_GATE.add_permits(1);
    let refreshed = first + 1;
    for _ in 0..100_000 {
        if quote(7).await == Ok(refreshed) {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(quote(7).await, Ok(refreshed));
    assert_eq!(QUOTE_RUNS.load(SeqCst), runs + 1);
    QUOTE_GATED.store(false, SeqCst);

    // The new value has its own TTL: fresh for a minute, not stale.
    let before = counts("quote");
    clock.advance(Duration::from_secs(59));
    assert_eq!(quote(7).await, Ok(refreshed));
    assert_eq!(counts("quote").since(&before).stale_served, 0);
}

#[tokio::test]
async fn past_the_stale_while_revalidate_window_the_caller_waits_for_a_new_value() {
    let (_serial, clock) = clock().await;
    reset_quote();
    let first = quote(8).await.unwrap();
    clock.advance(Duration::from_secs(60 + 10 * 60));
    let before = counts("quote");
    let second = quote(8).await.unwrap();
    assert_ne!(second, first, "computed by this call, not served stale");
    let during = counts("quote").since(&before);
    assert_eq!(
        (during.misses, during.stale_served, during.revalidations),
        (1, 0, 0)
    );
}

#[tokio::test]
async fn an_entry_invalidated_by_a_tag_is_never_served_while_revalidating() {
    let (_serial, clock) = clock().await;
    reset_quote();
    let first = quote(9).await.unwrap();
    clock.advance(Duration::from_secs(61));
    cached_query::invalidate_tag("quotes").await.unwrap();
    let second = quote(9).await.unwrap();
    assert_ne!(
        second, first,
        "invalidated data is not served, even within the window"
    );
}

#[tokio::test]
async fn a_failed_background_refresh_keeps_the_old_value_and_the_next_caller_tries_again() {
    let (_serial, clock) = clock().await;
    reset_quote();
    let first = quote(10).await.unwrap();
    clock.advance(Duration::from_secs(61));
    QUOTE_FAILS.store(true, SeqCst);
    let before = counts("quote");

    assert_eq!(quote(10).await, Ok(first));
    until(|| counts("quote").since(&before).errors == 1).await;
    // The failure was not cached and did not replace the old value.
    assert_eq!(quote(10).await, Ok(first));
    until(|| counts("quote").since(&before).errors == 2).await;
    assert_eq!(counts("quote").since(&before).revalidations, 2);

    // The source recovers: the next refresh replaces the value.
    QUOTE_FAILS.store(false, SeqCst);
    assert_eq!(quote(10).await, Ok(first));
    until(|| counts("quote").since(&before).revalidations == 3).await;
    let mut latest = quote(10).await;
    for _ in 0..100_000 {
        if latest != Ok(first) {
            break;
        }
        tokio::task::yield_now().await;
        latest = quote(10).await;
    }
    assert_ne!(latest, Ok(first));
    reset_quote();
}

#[test]
fn outside_a_tokio_runtime_the_caller_recomputes_instead_of_revalidating_in_the_background() {
    // Not a tokio test: this thread has no runtime to spawn the refresh on.
    let (_serial, clock) = block_on(clock());
    reset_quote();
    let first = block_on(quote(11)).unwrap();
    clock.advance(Duration::from_secs(61));
    let second = block_on(quote(11)).unwrap();
    assert_ne!(second, first, "the caller computed the new value itself");
    assert_eq!(block_on(quote(11)), Ok(second), "and stored it");
}

// ---------------------------------------------------------------------------------------------
// early_refresh

static REPORT_RUNS: AtomicU32 = AtomicU32::new(0);
/// While set, each computation takes one second on the cache's clock.
static REPORT_SLOW: AtomicBool = AtomicBool::new(false);

#[cached_query(ttl = "1h", early_refresh)]
async fn report(id: u32) -> u32 {
    let run = REPORT_RUNS.fetch_add(1, SeqCst) + 1;
    if REPORT_SLOW.load(SeqCst) {
        CLOCK.advance(Duration::from_secs(1));
    }
    id * 100_000 + run
}

#[tokio::test]
async fn early_refresh_never_recomputes_far_from_the_deadline() {
    let (_serial, clock) = clock().await;
    REPORT_SLOW.store(true, SeqCst);
    let first = report(1).await;
    REPORT_SLOW.store(false, SeqCst);
    let before = counts("report");
    // An hour before the deadline, for a value that took 1 s: no draw can reach the deadline.
    clock.advance(Duration::from_secs(40));
    for _ in 0..1000 {
        assert_eq!(report(1).await, first);
    }
    let during = counts("report").since(&before);
    assert_eq!((during.hits, during.refreshed_early), (1000, 0));
}

#[tokio::test]
async fn just_before_the_deadline_one_caller_recomputes_and_the_entry_never_expires() {
    let (_serial, clock) = clock().await;
    REPORT_SLOW.store(true, SeqCst);
    let first = report(2).await;
    REPORT_SLOW.store(false, SeqCst);
    let runs = REPORT_RUNS.load(SeqCst);
    let before = counts("report");
    // 1 µs before the deadline of a value that took 1 s: a draw misses with probability 1e-6.
    clock.advance(Duration::from_secs(3600) - Duration::from_micros(1));
    let second = report(2).await;
    assert_ne!(second, first, "this caller recomputed");
    assert_eq!(REPORT_RUNS.load(SeqCst), runs + 1);
    // The new value was stored with a new deadline: the old one passing changes nothing.
    clock.advance(Duration::from_secs(1));
    assert_eq!(report(2).await, second);
    let during = counts("report").since(&before);
    assert_eq!(
        (during.refreshed_early, during.misses, during.hits),
        (1, 1, 1)
    );
    assert_eq!(during.expirations, 0);
}

#[tokio::test]
async fn early_refresh_fires_with_the_xfetch_probability() {
    let (_serial, clock) = clock().await;
    // 1000 keys, each computed in 1 s, so their deadlines are 1 s apart.
    const KEYS: u32 = 1000;
    REPORT_SLOW.store(true, SeqCst);
    let base = 10_000;
    for id in base..base + KEYS {
        report(id).await;
    }
    REPORT_SLOW.store(false, SeqCst);
    let before = counts("report");
    // Visit each key ln(2) · 1 s before its deadline: P(refresh) = 1 − e^(−ln 2) = 1/2.
    // The first key's deadline is an hour after its computation ended, KEYS − 1 s ago.
    let ln2 = Duration::from_nanos(693_147_181);
    clock.advance(Duration::from_secs(3600) - Duration::from_secs(u64::from(KEYS - 1)) - ln2);
    for id in base..base + KEYS {
        report(id).await;
        clock.advance(Duration::from_secs(1));
    }
    let refreshed = counts("report").since(&before).refreshed_early;
    // Binomial(1000, 0.5): sd ≈ 16; the bounds are more than 6 sd away.
    assert!(
        (400..=600).contains(&refreshed),
        "{refreshed} of {KEYS} refreshed early"
    );
}

static BOARD_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "100s", early_refresh, stale_while_revalidate = "1m")]
async fn board(id: u32) -> u32 {
    let run = BOARD_RUNS.fetch_add(1, SeqCst) + 1;
    if REPORT_SLOW.load(SeqCst) {
        CLOCK.advance(Duration::from_secs(1));
    }
    id * 100_000 + run
}

#[tokio::test]
async fn with_stale_while_revalidate_an_early_refresh_runs_in_the_background() {
    let (_serial, clock) = clock().await;
    REPORT_SLOW.store(true, SeqCst);
    let first = board(1).await;
    REPORT_SLOW.store(false, SeqCst);
    let runs = BOARD_RUNS.load(SeqCst);
    let before = counts("board");
    clock.advance(Duration::from_secs(100) - Duration::from_micros(1));
    // Every caller gets the current value at once; one refresh runs in the background.
    for _ in 0..100 {
        assert_eq!(answer_at_once(board(1)), Some(first));
    }
    until(|| BOARD_RUNS.load(SeqCst) == runs + 1).await;
    let during = counts("board").since(&before);
    assert_eq!(during.revalidations, 1);
    assert_eq!(during.refreshed_early, 1);
    assert_eq!(during.stale_served, 0, "the value had not expired");
    let second = first + 1;
    until(|| answer_at_once(board(1)) == Some(second)).await;
}

// ---------------------------------------------------------------------------------------------
// cache_err with err_ttl

#[derive(Clone, Debug, PartialEq)]
pub struct NotFound;

static PROFILE_RUNS: AtomicU32 = AtomicU32::new(0);
static PROFILE_EXISTS: AtomicBool = AtomicBool::new(false);

#[cached_query(ttl = "1h", cache_err = |_: &NotFound| true, err_ttl = "30s")]
async fn profile(id: u32) -> Result<u32, NotFound> {
    PROFILE_RUNS.fetch_add(1, SeqCst);
    if PROFILE_EXISTS.load(SeqCst) {
        Ok(id)
    } else {
        Err(NotFound)
    }
}

#[tokio::test]
async fn a_cached_error_lives_for_err_ttl_and_a_value_for_the_ttl() {
    let (_serial, clock) = clock().await;
    PROFILE_EXISTS.store(false, SeqCst);
    assert_eq!(profile(1).await, Err(NotFound));
    // Created meanwhile: the cached error still answers until its 30 s are up.
    PROFILE_EXISTS.store(true, SeqCst);
    clock.advance(Duration::from_secs(29));
    assert_eq!(profile(1).await, Err(NotFound));
    assert_eq!(PROFILE_RUNS.load(SeqCst), 1);
    clock.advance(Duration::from_secs(1));
    assert_eq!(profile(1).await, Ok(1));
    assert_eq!(PROFILE_RUNS.load(SeqCst), 2);
    // The value has the function's TTL.
    clock.advance(Duration::from_secs(3599));
    assert_eq!(profile(1).await, Ok(1));
    assert_eq!(PROFILE_RUNS.load(SeqCst), 2);
    clock.advance(Duration::from_secs(1));
    profile(1).await.unwrap();
    assert_eq!(PROFILE_RUNS.load(SeqCst), 3);
}

// ---------------------------------------------------------------------------------------------
// min_compute, measured on the cache's clock

static MEASURED_RUNS: AtomicU32 = AtomicU32::new(0);

/// Takes `millis` on the cache's clock.
#[cached_query(min_compute = "20ms")]
async fn measured(millis: u64) -> u64 {
    MEASURED_RUNS.fetch_add(1, SeqCst);
    CLOCK.advance(Duration::from_millis(millis));
    millis
}

#[tokio::test]
async fn results_computed_faster_than_min_compute_are_not_stored() {
    let (_serial, _clock) = clock().await;
    let before = counts("measured");
    measured(19).await;
    measured(19).await;
    assert_eq!(MEASURED_RUNS.load(SeqCst), 2, "19 ms: not worth storing");
    measured(20).await;
    measured(20).await;
    assert_eq!(MEASURED_RUNS.load(SeqCst), 3, "20 ms: stored");
    let during = counts("measured").since(&before);
    assert_eq!((during.not_cached, during.misses, during.hits), (2, 3, 1));
}
