//! The generations mirror: a Redis hit reads only its value once this instance has read its
//! tags' generations, and an invalidation is seen through it as through the counters.

use crate::support::{RedisServer, eventually, pair, ready, shared};
use cached_query::cached_query;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

static SHELF: AtomicU64 = AtomicU64::new(1);

#[cached_query(ttl = "10m", tags = ["shelf"])]
async fn shelf_item(slot: u32) -> u64 {
    SHELF.load(SeqCst) * 1_000 + u64::from(slot)
}

/// The reads run between two readings: `GET`s (a value each, and on a cluster a tag's counter
/// each) and `MGET`s (the tags' counters, on one server).
fn reads(before: &HashMap<String, u64>, after: &HashMap<String, u64>) -> u64 {
    let ran = |name: &str| after.get(name).unwrap_or(&0) - before.get(name).unwrap_or(&0);
    ran("get") + ran("mget")
}

#[tokio::test]
async fn a_redis_hit_reads_only_its_value_once_its_tags_generations_are_known() {
    let server = RedisServer::start();
    let (a, b) = pair(&server, "mirror");
    ready(&[&a, &b]).await;
    for slot in 1..=3 {
        a.scope(shelf_item(slot)).await;
    }
    eventually("written to Redis", || shared(&a).writes >= 3).await;

    // b has none of them in memory: each is a Redis hit. The first reads the counters too.
    let before = server.command_calls();
    assert_eq!(b.scope(shelf_item(1)).await, 1_001);
    assert!(
        reads(&before, &server.command_calls()) >= 2,
        "the first hit reads the value and the tags' counters"
    );

    let before = server.command_calls();
    assert_eq!(b.scope(shelf_item(2)).await, 1_002);
    assert_eq!(
        reads(&before, &server.command_calls()),
        1,
        "the same tags, already known: the value alone, one command"
    );

    // Invalidated from a: when it returns, b's mirror no longer holds the old generation, so
    // the value in Redis (stored under it) is not b's hit.
    SHELF.store(2, SeqCst);
    a.invalidate_tag("shelf").await.unwrap();
    assert_eq!(b.scope(shelf_item(3)).await, 2_003);
    let counts = b.scope(async { cached_query::stats() }).await;
    let counts = counts.function("shelf_item").unwrap().counts;
    assert_eq!(counts.remote_hits, 2, "the third read was not a hit");
}
