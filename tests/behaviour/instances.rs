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
