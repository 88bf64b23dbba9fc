//! Statistics per function and in total, serializable.

use crate::counts;
use cached_query::cached_query;

#[cached_query]
async fn counted(x: u8) -> Result<u8, String> {
    if x == 0 { Err("zero".into()) } else { Ok(x) }
}

#[tokio::test]
async fn stats_count_hits_misses_errors_and_entries() {
    counted(1).await.unwrap();
    counted(1).await.unwrap();
    counted(2).await.unwrap();
    counted(0).await.unwrap_err();
    cached_query::run_pending_tasks().await;
    let c = counts("stats::counted");
    assert_eq!((c.hits, c.misses, c.errors), (1, 3, 1));
    assert_eq!(c.entries, 2);
    // Two entries, each weighing more than 100 bytes with its bookkeeping, on either engine.
    assert!(c.weighted_size >= 2 * 100, "{}", c.weighted_size);
    assert!((c.hit_ratio() - 0.25).abs() < 1e-9);

    let all = cached_query::stats();
    assert!(all.total.hits >= c.hits && all.total.misses >= c.misses);
    let row = all.function("counted").expect("listed by its path");
    assert!(row.name.ends_with("stats::counted"), "{}", row.name);

    let json = serde_json::to_value(&all).unwrap();
    assert!(json["total"]["hits"].as_u64().unwrap() >= 1);
    assert!(
        json["functions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == row.name.as_str())
    );
}

#[cached_query]
async fn delta_probe(x: u8) -> u8 {
    x
}

#[tokio::test]
async fn since_gives_the_counts_of_a_tests_own_calls() {
    delta_probe(1).await;
    let before = counts("delta_probe");
    delta_probe(1).await;
    delta_probe(2).await;
    let during = counts("delta_probe").since(&before);
    assert_eq!((during.hits, during.misses), (1, 1));
}
