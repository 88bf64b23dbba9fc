//! `condition`, `unless` and `min_compute`: when a call or a result is not worth caching.

use crate::{Runs, counts};
use cached_query::cached_query;

static GATED_RUNS: Runs = Runs::new();

#[cached_query(condition = id > 0 && !fresh)]
async fn gated(id: i64, fresh: bool) -> i64 {
    GATED_RUNS.bump();
    id * 2
}

#[tokio::test]
async fn calls_the_condition_excludes_run_uncached() {
    assert_eq!(gated(-1, false).await, -2);
    assert_eq!(gated(-1, false).await, -2);
    assert_eq!(GATED_RUNS.get(), 2, "excluded: never cached");
    assert_eq!(gated(3, false).await, 6);
    assert_eq!(gated(3, false).await, 6);
    assert_eq!(GATED_RUNS.get(), 3, "included: cached");
    assert_eq!(gated(3, true).await, 6);
    assert_eq!(GATED_RUNS.get(), 4, "`fresh` asks for the source");
    assert_eq!(counts("conditions::gated").bypassed, 3);
}

static SEARCH_RUNS: Runs = Runs::new();

#[cached_query(unless = |hits: &Vec<u32>| hits.is_empty())]
async fn search(query: String) -> Vec<u32> {
    SEARCH_RUNS.bump();
    query
        .bytes()
        .map(u32::from)
        .filter(|b| *b != u32::from(b'-'))
        .collect()
}

#[tokio::test]
async fn results_unless_rejects_are_returned_but_not_stored() {
    assert!(search("-".into()).await.is_empty());
    assert!(search("-".into()).await.is_empty());
    assert_eq!(SEARCH_RUNS.get(), 2, "empty results are not cached");
    assert_eq!(search("ab".into()).await, vec![97, 98]);
    assert_eq!(search("ab".into()).await, vec![97, 98]);
    assert_eq!(SEARCH_RUNS.get(), 3);
    let stats = counts("conditions::search");
    assert_eq!((stats.not_cached, stats.misses, stats.hits), (2, 3, 1));
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Page {
    items: Vec<u8>,
    partial: bool,
}

fn is_partial(page: &Result<Page, String>) -> bool {
    matches!(page, Ok(page) if page.partial)
}

static PAGE_RUNS: Runs = Runs::new();

#[cached_query(unless = is_partial)]
async fn page(n: u8) -> Result<Page, String> {
    PAGE_RUNS.bump();
    Ok(Page {
        items: vec![n],
        partial: n % 2 == 1,
    })
}

#[tokio::test]
async fn unless_takes_a_function_path_too() {
    page(1).await.unwrap();
    page(1).await.unwrap();
    assert_eq!(PAGE_RUNS.get(), 2, "partial pages are not cached");
    page(2).await.unwrap();
    page(2).await.unwrap();
    assert_eq!(PAGE_RUNS.get(), 3);
}

// `min_compute` is tested on a manual clock, in `tests/freshness.rs`.
