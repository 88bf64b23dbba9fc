//! A pub/sub reconnection (issue 11): messages sent while an instance was not listening are
//! lost, so it drops what it holds from the shared tier, and only that. `local` functions and
//! memory-only stores never depend on a message, and must keep their entries: a flapping Redis
//! must not turn into repeated stampedes on the database.

use crate::support::{RedisServer, patient, ready};
use cached_query::{Cache, Config, cached_query};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::{Duration, Instant};

static SHARED_RUNS: AtomicU32 = AtomicU32::new(0);
static LOCAL_RUNS: AtomicU32 = AtomicU32::new(0);
static GEO_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "10m")]
async fn resub_shared(id: u32) -> u32 {
    SHARED_RUNS.fetch_add(1, SeqCst);
    id
}

#[cached_query(ttl = "10m", local)]
async fn resub_local(id: u32) -> u32 {
    LOCAL_RUNS.fetch_add(1, SeqCst);
    id
}

#[cached_query(ttl = "10m", store = "resub-geo")]
async fn resub_geo(id: u32) -> u32 {
    GEO_RUNS.fetch_add(1, SeqCst);
    id
}

fn remote_hits(cache: &Cache) -> u64 {
    crate::support::futures_lite_block(cache.scope(async { cached_query::stats() }))
        .function("resub_shared")
        .map_or(0, |f| f.counts.remote_hits)
}

#[tokio::test]
async fn a_resubscription_drops_shared_entries_only() {
    let server = RedisServer::start();
    let cache = Cache::new(
        Config::new()
            .namespace("resub")
            .memory_only_store("resub-geo")
            .redis(patient(&server)),
    );
    ready(&[&cache]).await;
    cache.scope(resub_shared(1)).await;
    cache.scope(resub_local(1)).await;
    cache.scope(resub_geo(1)).await;
    crate::support::eventually("written to Redis", || {
        crate::support::shared(&cache).writes >= 1
    })
    .await;

    // The server drops the subscription; the listener reconnects on its own. (On a cluster
    // the listener speaks RESP3, whose subscribed clients Redis lists as `normal`: the clients
    // with sharded subscriptions are found by their `ssub` count and dropped by id.)
    for node in 0..server.node_count() {
        let mut direct = server.node_client(node);
        if crate::support::on_cluster() {
            for id in server.sharded_subscribers(node) {
                let _: () = redis::cmd("CLIENT")
                    .arg("KILL")
                    .arg("ID")
                    .arg(id)
                    .query(&mut direct)
                    .unwrap();
            }
        } else {
            let _: () = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("TYPE")
                .arg("pubsub")
                .query(&mut direct)
                .unwrap();
        }
    }
    // Once it has resubscribed, the shared entry is gone from memory: read from Redis again.
    let deadline = Instant::now() + Duration::from_secs(5);
    while remote_hits(&cache) == 0 {
        assert!(
            Instant::now() < deadline,
            "never resubscribed: {:?}",
            crate::support::shared(&cache)
        );
        assert_eq!(cache.scope(resub_shared(1)).await, 1);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(
        SHARED_RUNS.load(SeqCst),
        1,
        "refilled from Redis, not recomputed"
    );

    assert_eq!(cache.scope(resub_local(1)).await, 1);
    assert_eq!(cache.scope(resub_geo(1)).await, 1);
    assert_eq!(
        (LOCAL_RUNS.load(SeqCst), GEO_RUNS.load(SeqCst)),
        (1, 1),
        "a local function and a memory-only store kept their entries"
    );
}
