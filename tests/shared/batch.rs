//! Batch functions and the shared tier (issue 14): the missing items of a batch are read from
//! Redis in one round trip, each item is shared and invalidated on its own, and a frozen Redis
//! leaves a batch to compute its items (that it costs one budget for all of them is checked on
//! a paused clock in the engine's tests).

use crate::support::{RedisServer, eventually, on_cluster, patient, ready, shared};
use cached_query::{Cache, Config, cached_query};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Every query a body made, by namespace (each test's own), each query's ids sorted.
static QUERIES: Mutex<Vec<(String, Vec<u64>)>> = Mutex::new(Vec::new());

fn queries(namespace: &str) -> Vec<Vec<u64>> {
    let all = QUERIES.lock().unwrap();
    all.iter()
        .filter(|(ns, _)| ns == namespace)
        .map(|(_, ids)| ids.clone())
        .collect()
}

#[cached_query(batch(ids), ttl = "10m", tags = ["user:{id}"], skip(namespace))]
async fn users(namespace: &str, ids: Vec<u64>) -> Result<HashMap<u64, String>, String> {
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    QUERIES.lock().unwrap().push((namespace.to_owned(), sorted));
    Ok(ids
        .into_iter()
        .filter(|id| id % 10 != 0)
        .map(|id| (id, format!("user {id}")))
        .collect())
}

#[cached_query(ttl = "10m")]
async fn warm_up(x: u32) -> u32 {
    x
}

fn instance(server: &RedisServer, namespace: &str) -> Cache {
    Cache::new(Config::new().namespace(namespace).redis(patient(server)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_serves_the_whole_batch_from_redis_in_one_round_trip() {
    const NS: &str = "batch-one-trip";
    let server = RedisServer::start();
    let (a, b) = (instance(&server, NS), instance(&server, NS));
    ready(&[&a, &b]).await;
    let ids: Vec<u64> = (1..=50).collect();
    let computed = a.scope(users(NS, ids.clone())).await.unwrap();
    assert_eq!(computed.len(), 45);
    eventually("every item written to Redis", || shared(&a).writes >= 50).await;
    // b's connection is made lazily: make it before counting (and let its write land).
    b.scope(warm_up(1)).await;
    eventually("b's value written", || shared(&b).writes >= 1).await;

    let before = server.command_calls();
    let served = b.scope(users(NS, ids)).await.unwrap();
    let after = server.command_calls();

    assert_eq!(served, computed);
    assert_eq!(queries(NS).len(), 1, "b ran no query");
    let calls =
        |name: &str| after.get(name).copied().unwrap_or(0) - before.get(name).copied().unwrap_or(0);
    if on_cluster() {
        // A script per key (each value and each of its 3 tags: the function's, the epoch,
        // `user:{id}`), all sent at once: one wait.
        assert_eq!(calls("evalsha") + calls("eval"), 50 * 4);
    } else {
        assert_eq!(
            calls("evalsha") + calls("eval"),
            1,
            "one script for the 50 items"
        );
    }
    // Inside the scripts, each value read once and each of its 3 tags' counters once: a `GET`
    // each (Redis counts a script's commands too), no header-only read.
    assert_eq!(calls("get"), 50 * 4);
    assert_eq!(calls("getrange"), 0);
    let stats = b.stats();
    let counts = stats.function("users").unwrap().counts;
    assert_eq!(
        (counts.remote_hits, counts.misses),
        (50, 50),
        "absent items included"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_items_invalidation_on_one_instance_reloads_only_that_item_on_the_other() {
    const NS: &str = "batch-invalidate";
    let server = RedisServer::start();
    let (a, b) = (instance(&server, NS), instance(&server, NS));
    ready(&[&a, &b]).await;
    a.scope(users(NS, vec![1, 2, 3])).await.unwrap();
    eventually("written to Redis", || shared(&a).writes >= 3).await;
    b.scope(users(NS, vec![1, 2, 3])).await.unwrap();
    a.scope(cached_query::invalidate_tag("user:2"))
        .await
        .unwrap();
    b.scope(users(NS, vec![1, 2, 3])).await.unwrap();
    assert_eq!(queries(NS), vec![vec![1, 2, 3], vec![2]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_leaves_a_batch_to_compute_its_items() {
    const NS: &str = "batch-frozen";
    let server = RedisServer::start();
    let cache = Cache::new(
        Config::new().namespace(NS).redis(
            server
                .config()
                .operation_timeout(Duration::from_millis(100)),
        ),
    );
    ready(&[&cache]).await;
    cache.scope(warm_up(2)).await;
    eventually("written to Redis", || shared(&cache).writes >= 1).await;
    server.freeze();
    let computed = cache.scope(users(NS, (1..=20).collect())).await.unwrap();
    // Read before the items' writes (queued now) can time out too.
    let failed = shared(&cache);
    server.thaw();
    assert_eq!(computed.len(), 18, "computed, not lost");
    assert_eq!(queries(NS), vec![(1..=20).collect::<Vec<_>>()]);
    // The connection's own response timeout and the operation's budget are the same: either
    // may count it.
    assert!(failed.timeouts + failed.errors >= 1, "the read failed");
    cache.scope(users(NS, (1..=20).collect())).await.unwrap();
    assert_eq!(queries(NS).len(), 1, "kept in memory");
}
