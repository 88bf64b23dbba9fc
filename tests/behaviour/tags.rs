//! Tags: fixed and templated, invalidated one at a time, several at once, or all.

use crate::Runs;
use cached_query::cached_query;
use serde::Serialize;

static PROFILE_RUNS: Runs = Runs::new();

#[derive(Serialize)]
pub struct Org {
    pub id: u32,
}

#[cached_query(tags = ["profiles", "profile:{id}", "org:{org.id}"])]
async fn profile(id: u32, org: &Org) -> String {
    PROFILE_RUNS.bump();
    format!("profile {id} of org {}", org.id)
}

#[tokio::test]
async fn a_templated_tag_invalidates_only_its_entries() {
    let org = Org { id: 9 };
    profile(1, &org).await;
    profile(2, &org).await;
    assert_eq!(PROFILE_RUNS.get(), 2);

    cached_query::invalidate_tag("profile:1").await.unwrap();
    profile(1, &org).await;
    profile(2, &org).await;
    assert_eq!(PROFILE_RUNS.get(), 3, "only profile 1 was recomputed");

    cached_query::invalidate_tag("org:9").await.unwrap();
    profile(1, &org).await;
    profile(2, &org).await;
    assert_eq!(PROFILE_RUNS.get(), 5, "a field template reaches both");

    cached_query::invalidate_tag("profiles").await.unwrap();
    profile(2, &org).await;
    assert_eq!(PROFILE_RUNS.get(), 6, "a fixed tag reaches every entry");

    cached_query::invalidate_tag("profile:999").await.unwrap();
    profile(2, &org).await;
    assert_eq!(PROFILE_RUNS.get(), 6, "an unrelated tag changes nothing");
}

static MANY_RUNS: Runs = Runs::new();

#[cached_query(tags = ["many:{n}"])]
async fn many(n: u32) -> u32 {
    MANY_RUNS.bump();
    n
}

#[tokio::test]
async fn invalidate_tags_takes_several() {
    for n in 0..4 {
        many(n).await;
    }
    cached_query::invalidate_tags(["many:0", "many:2"])
        .await
        .unwrap();
    for n in 0..4 {
        many(n).await;
    }
    assert_eq!(MANY_RUNS.get(), 6);
}

static FN_RUNS: Runs = Runs::new();
static NEIGHBOUR_RUNS: Runs = Runs::new();

#[cached_query]
async fn untagged(n: u32) -> u32 {
    FN_RUNS.bump();
    n
}

#[cached_query]
async fn neighbour(n: u32) -> u32 {
    NEIGHBOUR_RUNS.bump();
    n
}

#[tokio::test]
async fn forget_all_clears_one_function() {
    untagged(1).await;
    untagged(2).await;
    neighbour(1).await;
    cached_query::forget_all(untagged(0)).await;
    untagged(1).await;
    untagged(2).await;
    assert_eq!(FN_RUNS.get(), 4);
    neighbour(1).await;
    assert_eq!(
        NEIGHBOUR_RUNS.get(),
        1,
        "other functions keep their entries"
    );
}

static EPOCH_RUNS: Runs = Runs::new();

#[cached_query]
async fn epoch_probe(n: u32) -> u32 {
    EPOCH_RUNS.bump();
    n
}

#[tokio::test]
async fn invalidate_all_clears_everything() {
    // An instance of its own: clearing the process-wide cache would disturb the other tests.
    let cache = cached_query::Cache::new(cached_query::Config::new());
    cache
        .scope(async {
            epoch_probe(1).await;
            epoch_probe(1).await;
            assert_eq!(EPOCH_RUNS.get(), 1);
            cached_query::invalidate_all().await.unwrap();
            epoch_probe(1).await;
            assert_eq!(EPOCH_RUNS.get(), 2);
        })
        .await;
}

static RACE_RUNS: Runs = Runs::new();
static GATE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(0);
static SOURCE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

#[cached_query(tags = ["race"])]
async fn slow_read() -> u32 {
    RACE_RUNS.bump();
    let seen = SOURCE.load(std::sync::atomic::Ordering::SeqCst);
    let _permit = GATE.acquire().await;
    seen
}

#[tokio::test]
async fn a_value_computed_before_an_invalidation_is_never_served_after_it() {
    let running = tokio::spawn(slow_read());
    crate::until(|| RACE_RUNS.get() == 1).await;
    // The data changes and the tag is invalidated while the old read is still running.
    SOURCE.store(2, std::sync::atomic::Ordering::SeqCst);
    cached_query::invalidate_tag("race").await.unwrap();
    GATE.add_permits(10);
    assert_eq!(
        running.await.unwrap(),
        1,
        "the old call returns what it read"
    );
    assert_eq!(
        slow_read().await,
        2,
        "but its result is not served afterwards"
    );
    assert_eq!(RACE_RUNS.get(), 2);
}
