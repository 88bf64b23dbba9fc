//! `forget`, `refresh` and `bypass`: one call, by calling it.

use crate::{Runs, counts};
use cached_query::cached_query;

static PRICE_RUNS: Runs = Runs::new();
static PRICE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(10);

#[cached_query]
async fn price(item: u32) -> u32 {
    PRICE_RUNS.bump();
    PRICE.load(std::sync::atomic::Ordering::SeqCst) + item
}

#[tokio::test]
async fn forget_drops_one_entry_without_running_the_body() {
    assert_eq!(price(1).await, 11);
    assert_eq!(price(2).await, 12);
    PRICE.store(20, std::sync::atomic::Ordering::SeqCst);
    assert!(cached_query::forget(price(1)).await, "an entry was removed");
    assert_eq!(PRICE_RUNS.get(), 2, "forget does not run the body");
    assert!(
        !cached_query::forget(price(1)).await,
        "nothing left to remove"
    );
    assert_eq!(price(1).await, 21);
    assert_eq!(price(2).await, 12, "other entries are kept");
}

static STOCK_RUNS: Runs = Runs::new();

#[cached_query]
async fn stock(item: u32) -> u32 {
    STOCK_RUNS.bump();
    item * 100 + STOCK_RUNS.get()
}

#[tokio::test]
async fn refresh_runs_the_body_and_replaces_the_entry() {
    assert_eq!(stock(1).await, 101);
    assert_eq!(stock(1).await, 101);
    assert_eq!(cached_query::refresh(stock(1)).await, 102);
    assert_eq!(stock(1).await, 102, "the refreshed value is served");
    assert_eq!(counts("modes::stock").refreshed, 1);
}

static OUTER_RUNS: Runs = Runs::new();
static INNER_RUNS: Runs = Runs::new();

#[cached_query]
async fn inner(item: u32) -> u32 {
    INNER_RUNS.bump();
    item
}

#[cached_query]
async fn outer(item: u32) -> u32 {
    OUTER_RUNS.bump();
    inner(item).await
}

#[tokio::test]
async fn refresh_applies_to_the_outer_call_only() {
    assert_eq!(outer(7).await, 7);
    cached_query::refresh(outer(7)).await;
    assert_eq!(OUTER_RUNS.get(), 2);
    assert_eq!(INNER_RUNS.get(), 1, "the inner call was a hit");
}

static FLAG_RUNS: Runs = Runs::new();

#[cached_query]
async fn flag(x: u8) -> u8 {
    FLAG_RUNS.bump();
    x
}

#[tokio::test]
async fn bypass_runs_everything_inside_uncached() {
    flag(1).await;
    cached_query::bypass(async {
        flag(1).await;
        flag(1).await;
        flag(2).await;
    })
    .await;
    assert_eq!(FLAG_RUNS.get(), 4);
    flag(2).await;
    assert_eq!(FLAG_RUNS.get(), 5, "bypassed calls stored nothing");
    flag(1).await;
    assert_eq!(FLAG_RUNS.get(), 5, "and left existing entries alone");
    assert_eq!(counts("modes::flag").bypassed, 3);
}

#[tokio::test]
async fn forget_of_an_uncached_future_just_runs_it() {
    assert!(!cached_query::forget(async { 5 }).await);
}
