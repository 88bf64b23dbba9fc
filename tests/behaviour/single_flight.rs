//! Concurrent identical calls run the body once; panics, cancellations and re-entrant calls
//! never leave a key stuck.

use crate::{Runs, counts, until};
use cached_query::cached_query;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Semaphore;

static COLD_RUNS: Runs = Runs::new();
static COLD_GATE: Semaphore = Semaphore::const_new(0);

#[cached_query]
async fn cold(key: u32) -> String {
    COLD_RUNS.bump();
    let _permit = COLD_GATE.acquire().await;
    format!("value {key}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_cold_calls_run_the_body_once() {
    let calls: Vec<_> = (0..100).map(|_| tokio::spawn(cold(1))).collect();
    until(|| counts("single_flight::cold").misses == 100).await;
    COLD_GATE.add_permits(1000);
    for call in calls {
        assert_eq!(call.await.unwrap(), "value 1");
    }
    assert_eq!(COLD_RUNS.get(), 1);
    let c = counts("single_flight::cold");
    assert_eq!((c.misses, c.coalesced), (100, 99));
}

static FAIL_RUNS: Runs = Runs::new();
static FAIL_GATE: Semaphore = Semaphore::const_new(0);

#[cached_query]
async fn failing_clone(key: u32) -> Result<u32, String> {
    FAIL_RUNS.bump();
    let _permit = FAIL_GATE.acquire().await;
    Err(format!("failed {key}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_share_a_cloneable_error_without_caching_it() {
    let calls: Vec<_> = (0..10).map(|_| tokio::spawn(failing_clone(1))).collect();
    until(|| counts("failing_clone").misses == 10).await;
    FAIL_GATE.add_permits(1000);
    for call in calls {
        assert_eq!(call.await.unwrap(), Err("failed 1".to_string()));
    }
    assert_eq!(FAIL_RUNS.get(), 1, "the error is shared");
    assert_eq!(failing_clone(1).await, Err("failed 1".to_string()));
    assert_eq!(FAIL_RUNS.get(), 2, "but not cached");
}

#[derive(Debug, PartialEq)]
pub struct NotClone(u32);

static OPAQUE_RUNS: Runs = Runs::new();
static OPAQUE_GATE: Semaphore = Semaphore::const_new(0);

#[cached_query]
async fn failing_opaque(key: u32) -> Result<u32, NotClone> {
    OPAQUE_RUNS.bump();
    let _permit = OPAQUE_GATE.acquire().await;
    Err(NotClone(key))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_that_cannot_be_cloned_is_recomputed_by_each_waiter() {
    let calls: Vec<_> = (0..5).map(|_| tokio::spawn(failing_opaque(3))).collect();
    until(|| counts("failing_opaque").misses == 5).await;
    OPAQUE_GATE.add_permits(1000);
    for call in calls {
        assert_eq!(call.await.unwrap(), Err(NotClone(3)));
    }
    assert_eq!(OPAQUE_RUNS.get(), 5, "each caller got its own error");
}

static PANIC_RUNS: Runs = Runs::new();
static PANIC_GATE: Semaphore = Semaphore::const_new(0);
static PANIC_FIRST: AtomicBool = AtomicBool::new(true);

#[cached_query]
async fn panics_once(key: u32) -> u32 {
    PANIC_RUNS.bump();
    let _permit = PANIC_GATE.acquire().await;
    if PANIC_FIRST.swap(false, Ordering::SeqCst) {
        panic!("leader panics");
    }
    key
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_leader_hands_the_key_to_a_waiter() {
    let leader = tokio::spawn(panics_once(5));
    until(|| PANIC_RUNS.get() == 1).await;
    let waiter = tokio::spawn(panics_once(5));
    until(|| counts("panics_once").misses == 2).await;
    PANIC_GATE.add_permits(1000);
    assert!(leader.await.unwrap_err().is_panic());
    assert_eq!(waiter.await.unwrap(), 5, "the waiter ran the body itself");
    assert_eq!(PANIC_RUNS.get(), 2);
    assert_eq!(panics_once(5).await, 5);
    assert_eq!(PANIC_RUNS.get(), 2, "and its result was cached");
}

static CANCEL_RUNS: Runs = Runs::new();
static CANCEL_GATE: Semaphore = Semaphore::const_new(0);

#[cached_query]
async fn cancellable(key: u32) -> u32 {
    CANCEL_RUNS.bump();
    let _permit = CANCEL_GATE.acquire().await;
    key * 2
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_leader_never_leaves_the_key_stuck() {
    let leader = tokio::spawn(cancellable(4));
    until(|| CANCEL_RUNS.get() == 1).await;
    let waiter = tokio::spawn(cancellable(4));
    until(|| counts("cancellable").misses == 2).await;
    leader.abort();
    assert!(leader.await.unwrap_err().is_cancelled());
    until(|| CANCEL_RUNS.get() == 2).await;
    CANCEL_GATE.add_permits(1000);
    assert_eq!(waiter.await.unwrap(), 8);
    assert_eq!(CANCEL_RUNS.get(), 2);
}

static REENTRANT_FIRST: AtomicBool = AtomicBool::new(true);

#[cached_query]
async fn reentrant(key: u32) -> u32 {
    if REENTRANT_FIRST.swap(false, Ordering::SeqCst) {
        // The same key, from inside its own computation.
        return Box::pin(reentrant(key)).await + 1;
    }
    key
}

#[tokio::test]
async fn a_same_key_call_from_inside_its_computation_does_not_deadlock() {
    assert_eq!(reentrant(10).await, 11);
    assert_eq!(counts("single_flight::reentrant").reentrant, 1);
    assert_eq!(reentrant(10).await, 11, "the outer result was cached");
}
