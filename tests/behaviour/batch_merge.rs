//! Merging concurrent calls of a batch function into one body call (`merge`, `max_batch`). Each
//! test runs in an instance of its own on a manual clock: a window closes when it is full, or
//! when the test moves the clock past it, never by itself.

use crate::until;
use cached_query::{Cache, Config, ManualClock, cached_query};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Duration;

/// Each query's ids, sorted, by test.
type Queries = HashMap<&'static str, Vec<Vec<u64>>>;

/// Every query a body made.
static QUERIES: LazyLock<Mutex<Queries>> = LazyLock::new(Mutex::default);

fn queries(test: &'static str) -> Vec<Vec<u64>> {
    let queries = QUERIES.lock().unwrap_or_else(PoisonError::into_inner);
    queries.get(test).cloned().unwrap_or_default()
}

fn record(test: &'static str, ids: &[u64]) {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    let mut queries = QUERIES.lock().unwrap_or_else(PoisonError::into_inner);
    queries.entry(test).or_default().push(ids);
}

#[cached_query(batch(ids), merge = "2ms", max_batch = 300, tags = ["user:{id}"])]
async fn merged(test: &'static str, ids: Vec<u64>) -> Result<HashMap<u64, String>, String> {
    record(test, &ids);
    if test == "failing" {
        return Err("database down".into());
    }
    Ok(ids
        .into_iter()
        .map(|id| (id, format!("user {id}")))
        .collect())
}

/// An instance on a clock of its own, and that clock.
fn on_manual_clock() -> (Cache, ManualClock) {
    let clock = ManualClock::new();
    (Cache::new(Config::new().clock(clock.clone())), clock)
}

fn spawn<T: Send + 'static>(
    cache: Cache,
    call: impl Future<Output = T> + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    tokio::spawn(async move { cache.scope(call).await })
}

fn misses(cache: Cache) -> u64 {
    let stats = cache.stats();
    stats.function("merged").map_or(0, |f| f.counts.misses)
}

#[tokio::test]
async fn a_thousand_concurrent_single_item_calls_make_a_few_body_calls() {
    const TEST: &str = "thousand";
    let (cache, clock) = on_manual_clock();
    let calls: Vec<_> = (1..=1_000u64)
        .map(|id| (id, spawn(cache, merged(TEST, vec![id]))))
        .collect();
    // Every call has looked its item up and joined a window (on this one thread, a call runs
    // until it waits); three windows are full and gone, the last holds 100 items.
    until(|| misses(cache) == 1_000).await;
    clock.advance(Duration::from_millis(2));
    for (id, call) in calls {
        let users = call.await.unwrap().unwrap();
        assert_eq!(users[&id], format!("user {id}"));
        assert_eq!(users.len(), 1, "each call gets its own item");
    }
    let sizes: Vec<usize> = queries(TEST).iter().map(Vec::len).collect();
    assert!(sizes.len() <= 1_000usize.div_ceil(300) + 2, "{sizes:?}");
    assert_eq!(sizes, vec![300, 300, 300, 100]);
}

#[tokio::test]
async fn a_window_closes_when_its_time_is_up() {
    const TEST: &str = "window";
    let (cache, clock) = on_manual_clock();
    let calls: Vec<_> = [1, 2, 3]
        .map(|id| spawn(cache, merged(TEST, vec![id])))
        .into_iter()
        .collect();
    until(|| misses(cache) == 3).await;
    clock.advance(Duration::from_millis(1));
    tokio::task::yield_now().await;
    assert!(
        queries(TEST).is_empty(),
        "1 ms into a 2 ms window: still open"
    );
    clock.advance(Duration::from_millis(1));
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().len(), 1);
    }
    assert_eq!(queries(TEST), vec![vec![1, 2, 3]]);
    let again = cache.scope(merged(TEST, vec![1, 2, 3])).await.unwrap();
    assert_eq!(again.len(), 3, "each item was cached");
    assert_eq!(queries(TEST).len(), 1);
}

#[tokio::test]
async fn calls_with_other_arguments_are_not_merged() {
    let (cache, clock) = on_manual_clock();
    let calls =
        [("other_a", 1), ("other_b", 2)].map(|(test, id)| spawn(cache, merged(test, vec![id])));
    until(|| misses(cache) == 2).await;
    clock.advance(Duration::from_millis(2));
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().len(), 1);
    }
    assert_eq!(
        (queries("other_a"), queries("other_b")),
        (vec![vec![1]], vec![vec![2]])
    );
}

#[tokio::test]
async fn a_merged_bodys_error_is_every_merged_calls_error() {
    let (cache, clock) = on_manual_clock();
    let calls = [1, 2].map(|id| spawn(cache, merged("failing", vec![id])));
    until(|| misses(cache) == 2).await;
    clock.advance(Duration::from_millis(2));
    for call in calls {
        assert_eq!(call.await.unwrap(), Err("database down".to_string()));
    }
    assert_eq!(
        queries("failing"),
        vec![vec![1, 2]],
        "one body call, nothing cached"
    );
}

#[tokio::test]
async fn when_the_driver_is_cancelled_the_others_load_their_items_themselves() {
    const TEST: &str = "cancelled";
    let (cache, clock) = on_manual_clock();
    let driver = spawn(cache, merged(TEST, vec![1]));
    until(|| misses(cache) == 1).await;
    let passenger = spawn(cache, merged(TEST, vec![2]));
    until(|| misses(cache) == 2).await;
    driver.abort();
    assert!(driver.await.unwrap_err().is_cancelled());
    // The passenger claims its item again, in a window of its own.
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    clock.advance(Duration::from_millis(2));
    assert_eq!(passenger.await.unwrap().unwrap().len(), 1);
    assert_eq!(queries(TEST), vec![vec![2]]);
}
