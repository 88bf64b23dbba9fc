//! Cache instances: separate stores and tags in one process.

use crate::Runs;
use cached_query::{Cache, Config, cached_query};

static RUNS: Runs = Runs::new();

#[cached_query(tags = ["inst"])]
async fn per_instance(x: u32) -> u32 {
    RUNS.bump();
    x
}

#[tokio::test]
async fn instances_do_not_share_entries_or_invalidations() {
    let a = Cache::new(Config::new());
    let b = Cache::new(Config::new());
    a.scope(per_instance(1)).await;
    a.scope(per_instance(1)).await;
    assert_eq!(RUNS.get(), 1);
    b.scope(per_instance(1)).await;
    assert_eq!(RUNS.get(), 2, "b has its own store");
    per_instance(1).await;
    assert_eq!(RUNS.get(), 3, "and so has the process-wide runtime");

    b.scope(async { cached_query::invalidate_tag("inst").await.unwrap() })
        .await;
    a.scope(per_instance(1)).await;
    assert_eq!(
        RUNS.get(),
        3,
        "an invalidation inside b's scope leaves a alone"
    );
    b.scope(per_instance(1)).await;
    assert_eq!(RUNS.get(), 4);
}

static COUNTED_RUNS: Runs = Runs::new();

#[cached_query]
async fn counted_per_instance(x: u32) -> u32 {
    COUNTED_RUNS.bump();
    x
}

#[tokio::test]
async fn an_instances_stats_count_its_own_calls_only() {
    let a = Cache::new(Config::new());
    let b = Cache::new(Config::new());
    a.scope(counted_per_instance(1)).await;
    a.scope(counted_per_instance(1)).await;
    b.scope(counted_per_instance(1)).await;
    assert_eq!(COUNTED_RUNS.get(), 2);
    let row = |cache: Cache| {
        cache
            .stats()
            .function("counted_per_instance")
            .map(|row| (row.counts.misses, row.counts.hits, row.counts.entries))
    };
    a.run_pending_tasks().await;
    b.run_pending_tasks().await;
    assert_eq!(row(a), Some((1, 1, 1)));
    assert_eq!(row(b), Some((1, 0, 1)));
    let in_scope = b.scope(async { cached_query::stats() }).await;
    assert_eq!(
        in_scope,
        b.stats(),
        "the free function reads the current instance"
    );
    let global = Cache::global().stats();
    let global_row = global
        .function("counted_per_instance")
        .map(|row| row.counts);
    assert_eq!(
        global_row.unwrap_or_default().misses,
        0,
        "the process-wide instance never ran it"
    );
}

#[tokio::test]
async fn instance_methods_act_on_that_instance() {
    use std::time::Duration;
    let a = Cache::new(Config::new());
    let b = Cache::new(Config::new());
    let minute = Duration::from_secs(60);
    a.put(&"inst-key", 5u32, minute, &["inst-tag"]).await;
    assert_eq!(a.get::<_, u32>(&"inst-key").await, Some(5));
    assert!(a.has(&"inst-key").await);
    assert_eq!(
        b.get::<_, u32>(&"inst-key").await,
        None,
        "b has its own store"
    );
    assert_eq!(
        cached_query::get::<_, u32>(&"inst-key").await,
        None,
        "so has the global one"
    );

    a.invalidate_tag("inst-tag").await.unwrap();
    assert_eq!(a.get::<_, u32>(&"inst-key").await, None);

    let computed: u32 = a.remember(&"inst-other", minute, &[], || async { 7 }).await;
    assert_eq!(computed, 7);
    a.invalidate_tags(["unrelated"]).await.unwrap();
    assert!(a.has(&"inst-other").await, "another tag leaves it");
    a.invalidate_all().await.unwrap();
    assert!(!a.has(&"inst-other").await);

    a.put(&"inst-gone", 1u8, minute, &[]).await;
    assert!(a.forget_key(&"inst-gone").await);
    assert!(!a.forget_key(&"inst-gone").await, "removed once");
}

#[tokio::test]
async fn a_put_is_neither_a_refresh_nor_a_miss() {
    use std::time::Duration;
    let cache = Cache::new(Config::new());
    cache
        .put(&"put-counted", 1u32, Duration::from_secs(60), &[])
        .await;
    cache
        .put(&"put-counted", 2u32, Duration::from_secs(60), &[])
        .await;
    assert_eq!(cache.get::<_, u32>(&"put-counted").await, Some(2));
    let counts = cache
        .stats()
        .function("cached_query::manual")
        .map(|row| row.counts);
    let counts = counts.unwrap_or_default();
    assert_eq!((counts.refreshed, counts.misses, counts.hits), (0, 0, 1));
}
