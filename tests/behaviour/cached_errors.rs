//! `cache_err`: chosen errors are cached (negative caching), the others are not.

use crate::{Runs, counts};
use cached_query::cached_query;

#[derive(Clone, Debug, PartialEq)]
pub enum LookupError {
    NotFound,
    Unavailable,
}

static ACCOUNT_RUNS: Runs = Runs::new();

#[cached_query(cache_err = |e: &LookupError| *e == LookupError::NotFound, tags = ["ce-account:{id}"])]
async fn account(id: u32) -> Result<String, LookupError> {
    ACCOUNT_RUNS.bump();
    match id {
        0 => Err(LookupError::NotFound),
        1 => Err(LookupError::Unavailable),
        id => Ok(format!("account {id}")),
    }
}

#[tokio::test]
async fn a_chosen_error_is_cached_and_returned_as_is() {
    let before = counts("account");
    assert_eq!(account(0).await, Err(LookupError::NotFound));
    assert_eq!(account(0).await, Err(LookupError::NotFound));
    assert_eq!(ACCOUNT_RUNS.get(), 1);
    let during = counts("account").since(&before);
    assert_eq!((during.misses, during.hits, during.errors), (1, 1, 1));

    // Invalidation applies to cached errors like to values.
    cached_query::invalidate_tag("ce-account:0").await.unwrap();
    assert_eq!(account(0).await, Err(LookupError::NotFound));
    assert_eq!(ACCOUNT_RUNS.get(), 2);
    assert!(cached_query::forget(account(0)).await);
    assert_eq!(account(0).await, Err(LookupError::NotFound));
    assert_eq!(ACCOUNT_RUNS.get(), 3);
}

static OTHER_RUNS: Runs = Runs::new();

#[cached_query(cache_err = |e| matches!(e, LookupError::NotFound))]
async fn other(id: u32) -> Result<String, LookupError> {
    OTHER_RUNS.bump();
    match id {
        1 => Err(LookupError::Unavailable),
        id => Ok(format!("other {id}")),
    }
}

#[tokio::test]
async fn other_errors_are_not_cached_and_values_still_are() {
    assert_eq!(other(1).await, Err(LookupError::Unavailable));
    assert_eq!(other(1).await, Err(LookupError::Unavailable));
    assert_eq!(OTHER_RUNS.get(), 2);
    assert_eq!(other(2).await.unwrap(), "other 2");
    assert_eq!(other(2).await.unwrap(), "other 2");
    assert_eq!(OTHER_RUNS.get(), 3);
}

/// An error type without serde, in a `local` function; a path as the predicate.
#[derive(Clone, Debug)]
pub struct Missing;

fn always(_: &Missing) -> bool {
    true
}

static LOCAL_RUNS: Runs = Runs::new();

#[cached_query(local, cache_err = always)]
async fn local_lookup(id: u32) -> Result<std::sync::Arc<str>, Missing> {
    LOCAL_RUNS.bump();
    if id == 0 {
        Err(Missing)
    } else {
        Ok(format!("{id}").into())
    }
}

#[tokio::test]
async fn local_functions_cache_errors_too() {
    assert!(local_lookup(0).await.is_err());
    assert!(local_lookup(0).await.is_err());
    assert_eq!(LOCAL_RUNS.get(), 1);
    assert_eq!(&*local_lookup(7).await.unwrap(), "7");
    assert_eq!(&*local_lookup(7).await.unwrap(), "7");
    assert_eq!(LOCAL_RUNS.get(), 2);
}

static SHARED_RUNS: Runs = Runs::new();

#[cached_query(cache_err = |e: &LookupError| *e == LookupError::NotFound)]
async fn slow_missing(id: u32) -> Result<String, LookupError> {
    SHARED_RUNS.bump();
    tokio::task::yield_now().await;
    let _ = id;
    Err(LookupError::NotFound)
}

#[tokio::test]
async fn concurrent_callers_share_one_cached_error() {
    let calls = (0..20).map(|_| slow_missing(3));
    let results = join_all(calls).await;
    assert!(results.iter().all(|r| *r == Err(LookupError::NotFound)));
    assert_eq!(SHARED_RUNS.get(), 1);
}

/// Every call at once, in this task.
async fn join_all<F: std::future::Future>(calls: impl Iterator<Item = F>) -> Vec<F::Output> {
    cached_query::warm(calls, usize::MAX).await
}
