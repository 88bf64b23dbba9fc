//! The manual API: `remember`, `get`, `put`, `has`, `forget_key` and the many-key forms, in the
//! same stores, tags and stats as cached functions.

use crate::Runs;
use serde::{Deserialize, Serialize};
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Report {
    day: u32,
    total: u64,
}

static REPORT_RUNS: Runs = Runs::new();

async fn build_report(day: u32) -> Report {
    REPORT_RUNS.bump();
    Report {
        day,
        total: u64::from(day) * 10,
    }
}

#[tokio::test]
async fn remember_computes_once_per_key() {
    let first =
        cached_query::remember(&("manual-report", 1u32), MINUTE, &[], || build_report(1)).await;
    let again =
        cached_query::remember(&("manual-report", 1u32), MINUTE, &[], || build_report(1)).await;
    let other =
        cached_query::remember(&("manual-report", 2u32), MINUTE, &[], || build_report(2)).await;
    assert_eq!(first, again);
    assert_eq!(other.day, 2);
    assert_eq!(REPORT_RUNS.get(), 2);
}

#[tokio::test]
async fn put_get_has_and_forget_key() {
    let key = ("manual-basics", 7u32);
    assert_eq!(cached_query::get::<_, String>(&key).await, None);
    assert!(!cached_query::has(&key).await);
    cached_query::put(&key, "seven".to_string(), MINUTE, &[]).await;
    assert!(cached_query::has(&key).await);
    assert_eq!(
        cached_query::get::<_, String>(&key).await.as_deref(),
        Some("seven")
    );
    assert_eq!(
        cached_query::get::<_, u64>(&key).await,
        None,
        "another type is a miss"
    );
    cached_query::put(&key, "SEVEN".to_string(), MINUTE, &[]).await;
    assert_eq!(
        cached_query::get::<_, String>(&key).await.as_deref(),
        Some("SEVEN"),
        "put replaces"
    );
    assert!(cached_query::forget_key(&key).await);
    assert!(!cached_query::forget_key(&key).await);
    assert!(!cached_query::has(&key).await);
}

#[tokio::test]
async fn manual_entries_carry_tags() {
    cached_query::put(&"manual-tagged-a", 1u8, MINUTE, &["manual-group"]).await;
    cached_query::put(
        &"manual-tagged-b",
        2u8,
        MINUTE,
        &["manual-group", "manual-b"],
    )
    .await;
    cached_query::put(&"manual-untagged", 3u8, MINUTE, &[]).await;
    cached_query::invalidate_tag("manual-b").await.unwrap();
    assert_eq!(
        cached_query::get::<_, u8>(&"manual-tagged-a").await,
        Some(1)
    );
    assert_eq!(cached_query::get::<_, u8>(&"manual-tagged-b").await, None);
    cached_query::invalidate_tag("manual-group").await.unwrap();
    assert_eq!(cached_query::get::<_, u8>(&"manual-tagged-a").await, None);
    assert_eq!(
        cached_query::get::<_, u8>(&"manual-untagged").await,
        Some(3)
    );
}

#[tokio::test]
async fn many_key_forms() {
    let keys = ["manual-many-1", "manual-many-2", "manual-many-3"];
    cached_query::put_many(
        [("manual-many-1", 10u32), ("manual-many-2", 20)],
        MINUTE,
        &[],
    )
    .await;
    let values: Vec<Option<u32>> = cached_query::get_many(&keys).await;
    assert_eq!(values, vec![Some(10), Some(20), None]);
    assert_eq!(cached_query::forget_many(&keys).await, 2);
    let values: Vec<Option<u32>> = cached_query::get_many(&keys).await;
    assert_eq!(values, vec![None, None, None]);
}

#[tokio::test]
async fn manual_calls_are_counted_under_their_own_name() {
    cached_query::remember(&"manual-counted", MINUTE, &[], || async { 5u16 }).await;
    cached_query::remember(&"manual-counted", MINUTE, &[], || async { 5u16 }).await;
    let row = cached_query::stats();
    let counts = row.function("cached_query::manual").unwrap().counts;
    assert!(counts.hits >= 1 && counts.misses >= 1, "{counts:?}");
}
