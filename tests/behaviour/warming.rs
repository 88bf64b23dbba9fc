//! `warm`: many cached calls with bounded parallelism, polled inside the caller's task.

use crate::{Runs, counts};
use cached_query::cached_query;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A stand-in for a connection pool: borrowed by the calls, never part of the key.
struct Db {
    scale: u64,
}

static USER_RUNS: Runs = Runs::new();

#[cached_query(skip(db))]
async fn warm_user(db: &Db, id: u64) -> u64 {
    USER_RUNS.bump();
    tokio::task::yield_now().await;
    id * db.scale
}

#[tokio::test]
async fn warming_fills_the_cache_and_keeps_the_input_order() {
    let db = Db { scale: 10 };
    // Not sorted, so the order of the outputs is the order of the input, not of the ids.
    let ids: Vec<u64> = (0..50).map(|i| (i * 7) % 50).collect();
    let before = counts("warming::warm_user");

    let values = cached_query::warm(ids.iter().map(|&id| warm_user(&db, id)), 4).await;

    assert_eq!(values, ids.iter().map(|id| id * 10).collect::<Vec<_>>());
    assert_eq!(USER_RUNS.get(), 50);
    let warming = counts("warming::warm_user").since(&before);
    assert_eq!((warming.hits, warming.misses), (0, 50));

    let before = counts("warming::warm_user");
    for &id in &ids {
        assert_eq!(warm_user(&db, id).await, id * 10);
    }
    assert_eq!(USER_RUNS.get(), 50, "every call after warming is a hit");
    let after = counts("warming::warm_user").since(&before);
    assert_eq!((after.hits, after.misses), (50, 0));
}

/// Calls of `bounded` whose bodies are running now, and the most there ever were.
static BOUNDED_NOW: AtomicUsize = AtomicUsize::new(0);
static BOUNDED_MAX: AtomicUsize = AtomicUsize::new(0);

#[cached_query]
async fn bounded(id: u32) -> u32 {
    let now = BOUNDED_NOW.fetch_add(1, Ordering::SeqCst) + 1;
    BOUNDED_MAX.fetch_max(now, Ordering::SeqCst);
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    BOUNDED_NOW.fetch_sub(1, Ordering::SeqCst);
    id
}

#[tokio::test]
async fn the_parallelism_bound_is_reached_and_never_exceeded() {
    let values = cached_query::warm((0..40).map(bounded), 4).await;
    assert_eq!(values, (0..40).collect::<Vec<_>>());
    assert_eq!(
        BOUNDED_MAX.load(Ordering::SeqCst),
        4,
        "all four slots filled"
    );

    BOUNDED_MAX.store(0, Ordering::SeqCst);
    let values = cached_query::warm((100..120).map(bounded), 1).await;
    assert_eq!(values, (100..120).collect::<Vec<_>>());
    assert_eq!(BOUNDED_MAX.load(Ordering::SeqCst), 1, "one at a time");
}

static FLAKY_RUNS: Runs = Runs::new();

#[cached_query]
async fn warm_flaky(id: u32) -> Result<u32, String> {
    FLAKY_RUNS.bump();
    tokio::task::yield_now().await;
    if id % 2 == 1 {
        Err(format!("no row {id}"))
    } else {
        Ok(id)
    }
}

#[tokio::test]
async fn errors_are_returned_in_place_and_not_cached() {
    let results = cached_query::warm((0..10).map(warm_flaky), 3).await;
    let expected: Vec<Result<u32, String>> = (0..10)
        .map(|id| {
            if id % 2 == 1 {
                Err(format!("no row {id}"))
            } else {
                Ok(id)
            }
        })
        .collect();
    assert_eq!(results, expected);
    assert_eq!(FLAKY_RUNS.get(), 10);

    for id in 0..10 {
        assert_eq!(warm_flaky(id).await, expected[id as usize]);
    }
    assert_eq!(
        FLAKY_RUNS.get(),
        15,
        "the 5 failed calls ran again, the 5 others were hits"
    );
}

static SERIAL_NOW: AtomicUsize = AtomicUsize::new(0);
static SERIAL_MAX: AtomicUsize = AtomicUsize::new(0);

#[cached_query]
async fn serial(id: u32) -> u32 {
    let now = SERIAL_NOW.fetch_add(1, Ordering::SeqCst) + 1;
    SERIAL_MAX.fetch_max(now, Ordering::SeqCst);
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    SERIAL_NOW.fetch_sub(1, Ordering::SeqCst);
    id
}

#[tokio::test]
async fn zero_parallelism_is_one_and_no_calls_is_no_outputs() {
    let values = cached_query::warm((0..10).map(serial), 0).await;
    assert_eq!(values, (0..10).collect::<Vec<_>>());
    assert_eq!(SERIAL_MAX.load(Ordering::SeqCst), 1);

    let none: Vec<u32> = cached_query::warm(Vec::<u32>::new().into_iter().map(serial), 4).await;
    assert!(none.is_empty());
}

/// Items the iterator has yielded, bodies finished, and the most calls ever created but not
/// finished, seen by a body as it starts.
static PULLED: AtomicUsize = AtomicUsize::new(0);
static LAZY_FINISHED: AtomicUsize = AtomicUsize::new(0);
static PULLED_AT_FIRST_BODY: AtomicUsize = AtomicUsize::new(usize::MAX);
static MOST_AHEAD: AtomicUsize = AtomicUsize::new(0);

#[cached_query]
async fn lazy(id: u32) -> u32 {
    let pulled = PULLED.load(Ordering::SeqCst);
    let _ = PULLED_AT_FIRST_BODY.compare_exchange(
        usize::MAX,
        pulled,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    MOST_AHEAD.fetch_max(
        pulled.saturating_sub(LAZY_FINISHED.load(Ordering::SeqCst)),
        Ordering::SeqCst,
    );
    tokio::task::yield_now().await;
    LAZY_FINISHED.fetch_add(1, Ordering::SeqCst);
    id
}

#[tokio::test]
async fn the_iterator_is_pulled_only_as_slots_free_up() {
    let calls = (0..1_000_000)
        .inspect(|_| {
            PULLED.fetch_add(1, Ordering::SeqCst);
        })
        .map(lazy)
        .take(30);
    let values = cached_query::warm(calls, 2).await;
    assert_eq!(values, (0..30).collect::<Vec<_>>());
    assert!(
        PULLED_AT_FIRST_BODY.load(Ordering::SeqCst) <= 2,
        "{} items pulled before the first body ran",
        PULLED_AT_FIRST_BODY.load(Ordering::SeqCst)
    );
    assert!(
        MOST_AHEAD.load(Ordering::SeqCst) <= 2,
        "at most 2 calls created and unfinished"
    );
    assert_eq!(PULLED.load(Ordering::SeqCst), 30);
}

static STOCK_RUNS: Runs = Runs::new();

#[cached_query]
async fn warm_stock(item: u32) -> u32 {
    STOCK_RUNS.bump();
    tokio::task::yield_now().await;
    item * 1000 + STOCK_RUNS.get()
}

#[tokio::test]
async fn refresh_inside_warm_recomputes_cached_entries() {
    let items: Vec<u32> = (1..=8).collect();
    let first = cached_query::warm(items.iter().map(|&item| warm_stock(item)), 3).await;
    assert_eq!(STOCK_RUNS.get(), 8);

    let again = cached_query::warm(items.iter().map(|&item| warm_stock(item)), 3).await;
    assert_eq!(again, first, "plain warming of cached entries: hits");
    assert_eq!(STOCK_RUNS.get(), 8);

    let before = counts("warming::warm_stock");
    let refreshed = cached_query::warm(
        items
            .iter()
            .map(|&item| cached_query::refresh(warm_stock(item))),
        3,
    )
    .await;
    assert_eq!(STOCK_RUNS.get(), 16, "every body ran again");
    assert_eq!(counts("warming::warm_stock").since(&before).refreshed, 8);
    for (item, (old, new)) in items.iter().zip(first.iter().zip(&refreshed)) {
        assert_eq!(new / 1000, *item);
        assert_ne!(new, old, "item {item} was recomputed");
        assert_eq!(
            warm_stock(*item).await,
            *new,
            "the refreshed value is served"
        );
    }
    assert_eq!(STOCK_RUNS.get(), 16, "and the calls after it are hits");
}

static SHARED_RUNS: Runs = Runs::new();

#[cached_query]
async fn warm_shared(id: u32) -> u32 {
    SHARED_RUNS.bump();
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    id
}

#[tokio::test]
async fn warming_calls_are_single_flight_with_each_other_and_with_other_calls() {
    let before = counts("warming::warm_shared");
    let (warmed, direct) = tokio::join!(
        cached_query::warm([7, 7, 7].map(warm_shared), 3),
        warm_shared(7),
    );
    assert_eq!((warmed, direct), (vec![7, 7, 7], 7));
    assert_eq!(SHARED_RUNS.get(), 1, "one computation for four calls");
    let during = counts("warming::warm_shared").since(&before);
    assert_eq!((during.misses, during.coalesced), (4, 3));
}

static BYPASS_RUNS: Runs = Runs::new();

#[cached_query]
async fn warm_bypassed(id: u32) -> u32 {
    BYPASS_RUNS.bump();
    id
}

#[tokio::test]
async fn bypass_around_warm_runs_every_call_uncached() {
    let before = counts("warming::warm_bypassed");
    let values = cached_query::bypass(cached_query::warm((0..6).map(warm_bypassed), 2)).await;
    assert_eq!(values, (0..6).collect::<Vec<_>>());
    assert_eq!(BYPASS_RUNS.get(), 6);
    assert_eq!(counts("warming::warm_bypassed").since(&before).bypassed, 6);
    cached_query::warm((0..6).map(warm_bypassed), 2).await;
    assert_eq!(BYPASS_RUNS.get(), 12, "the bypassed calls stored nothing");
}
