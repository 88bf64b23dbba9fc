//! The shared tier against a real `redis-server` (no mocks): cross-instance hits and
//! invalidations, schema safety, corrupt data, and Redis killed or frozen mid-run.
#![cfg(feature = "redis")]
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)] // a test crate

mod batch;
mod breaker;
mod caller_reads;
mod coalesce;
mod faults;
mod foreign;
mod late_subscription;
mod mirror;
mod outage;
mod put;
mod resubscribe;
mod servers;
mod support;
mod two_instances;
mod write_behind;

use cached_query::{BreakerState, Cache, Config, cached_query};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::{Duration, Instant};
use support::{RedisServer, eventually, futures_lite_block, pair, patient, ready, shared};

static PRICE_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "10m", tags = ["price:{sku}"])]
async fn price(sku: u32) -> u64 {
    PRICE_RUNS.fetch_add(1, SeqCst);
    u64::from(sku) * 100
}

#[tokio::test]
async fn a_value_computed_on_one_instance_is_a_hit_on_the_other() {
    let server = RedisServer::start();
    let (a, b) = pair(&server, "hit");
    ready(&[&a, &b]).await;
    assert_eq!(a.scope(price(7)).await, 700);
    eventually("written to Redis", || shared(&a).writes >= 1).await;
    assert_eq!(b.scope(price(7)).await, 700);
    assert_eq!(PRICE_RUNS.load(SeqCst), 1, "b did not run the body");
    let counts = b.scope(async { cached_query::stats() }).await;
    assert!(counts.function("price").unwrap().counts.remote_hits >= 1);
}

static STOCK: AtomicU32 = AtomicU32::new(1);

#[cached_query(ttl = "10m", tags = ["stock:{sku}"])]
async fn stock(sku: u32) -> u32 {
    let _ = sku; // part of the key and of the tag
    STOCK.load(SeqCst)
}

#[tokio::test]
async fn an_invalidation_on_either_instance_is_seen_by_both_when_it_returns() {
    let server = RedisServer::start();
    let (a, b) = pair(&server, "inv");
    ready(&[&a, &b]).await;
    assert_eq!(a.scope(stock(1)).await, 1);
    eventually("written to Redis", || shared(&a).writes >= 1).await;
    assert_eq!(
        b.scope(stock(1)).await,
        1,
        "both instances hold the value in memory now"
    );

    // 200 rounds: without the acknowledgement wait, a stale read shows up within a few.
    for (round, (writer, other)) in [(&a, &b), (&b, &a)]
        .into_iter()
        .cycle()
        .take(200)
        .enumerate()
    {
        let version = 2 + round as u32;
        STOCK.store(version, SeqCst);
        writer
            .scope(cached_query::invalidate_tag("stock:1"))
            .await
            .expect("confirmed by every instance");
        // No sleep, no retry: the very next read on either instance is fresh.
        assert_eq!(
            other.scope(stock(1)).await,
            version,
            "round {round}, other instance"
        );
        assert_eq!(
            writer.scope(stock(1)).await,
            version,
            "round {round}, invalidating instance"
        );
    }
}

mod schema_v1 {
    #[cached_query::cached_query(name = "schema-probe", ttl = "10m")]
    pub async fn load(id: u32) -> u64 {
        u64::from(id)
    }
}

mod schema_v2 {
    pub static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

    /// Same name and version, another return type: the same key in Redis.
    #[cached_query::cached_query(name = "schema-probe", ttl = "10m")]
    pub async fn load(id: u32) -> String {
        RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        format!("v2:{id}")
    }
}

#[tokio::test]
async fn bytes_of_another_type_are_never_decoded() {
    let server = RedisServer::start();
    let (a, b) = pair(&server, "schema");
    ready(&[&a, &b]).await;
    assert_eq!(a.scope(schema_v1::load(5)).await, 5);
    eventually("written to Redis", || shared(&a).writes >= 1).await;
    assert_eq!(b.scope(schema_v2::load(5)).await, "v2:5");
    assert_eq!(
        schema_v2::RUNS.load(SeqCst),
        1,
        "the old bytes were refused, the body ran"
    );
    assert!(shared(&b).rejected >= 1);
    eventually("overwritten", || shared(&b).writes >= 1).await;
    let c = Cache::new(Config::new().namespace("schema").redis(patient(&server)));
    ready(&[&c]).await;
    assert_eq!(c.scope(schema_v2::load(5)).await, "v2:5");
    assert_eq!(
        schema_v2::RUNS.load(SeqCst),
        1,
        "a third instance reads the new value"
    );
}

static PROFILE_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "10m")]
async fn profile(id: u32) -> Vec<String> {
    PROFILE_RUNS.fetch_add(1, SeqCst);
    vec![format!("profile {id}"); 3]
}

#[tokio::test]
async fn a_corrupt_value_in_redis_is_a_miss_and_gets_overwritten() {
    let server = RedisServer::start();
    let (a, b) = pair(&server, "corrupt");
    ready(&[&a, &b]).await;
    let expected = vec!["profile 3".to_string(); 3];
    assert_eq!(a.scope(profile(3)).await, expected);
    eventually("written to Redis", || shared(&a).writes >= 1).await;

    let mut direct = server.client();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("corrupt:v:*")
        .query(&mut direct)
        .unwrap();
    assert_eq!(keys.len(), 1);
    // A length prefix claiming ~2^60 elements, then garbage.
    let garbage: &[u8] = &[
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff, 1, 2, 3,
    ];
    // Our header, kept; the payload after it replaced.
    let stored: Vec<u8> = redis::cmd("GET").arg(&keys[0]).query(&mut direct).unwrap();
    let header_end = stored.iter().position(|b| *b == b'\n').unwrap() + 1;
    let corrupt = [&stored[..header_end], garbage].concat();
    redis::cmd("SET")
        .arg(&keys[0])
        .arg(&corrupt)
        .exec(&mut direct)
        .unwrap();

    assert_eq!(
        b.scope(profile(3)).await,
        expected,
        "a miss, not a panic or a wrong value"
    );
    assert_eq!(PROFILE_RUNS.load(SeqCst), 2);
    assert!(shared(&b).rejected >= 1);
    eventually("overwritten", || {
        let stored: Vec<u8> = redis::cmd("GET").arg(&keys[0]).query(&mut direct).unwrap();
        stored != corrupt
    })
    .await;
}

static SLOW_RUNS: AtomicU32 = AtomicU32::new(0);
const BODY: Duration = Duration::from_millis(1);

#[cached_query(ttl = "10m")]
async fn compute(x: u32) -> u64 {
    SLOW_RUNS.fetch_add(1, SeqCst);
    tokio::time::sleep(BODY).await;
    u64::from(x) * 3
}

/// 1,000 calls over 200 keys: every result right. With Redis frozen each would hang until it
/// thawed if the tier's own budget did not cut its operations short: the callers assert the
/// tier's timeout and breaker counters, not the wall clock (CI shares its cores).
async fn thousand_calls(cache: &Cache, budget: Duration) {
    let mut slowest = Duration::ZERO;
    for i in 0..1000u32 {
        let x = i % 200;
        let started = Instant::now();
        assert_eq!(cache.scope(compute(x)).await, u64::from(x) * 3);
        slowest = slowest.max(started.elapsed());
    }
    // Reported for whoever reads the log; the budget itself is checked by the tier.
    eprintln!("slowest of 1,000 calls: {slowest:?} (budget {budget:?})");
}

/// After an outage: waits until the breaker lets calls through, then calls with new arguments
/// from `first` on until one's value, computed on `cache`, is a hit on `other` (a write queued
/// before the outage ended may land or fail around any given call, so each argument is tried
/// on its own); returns how many tries it took.
async fn until_shared_again(cache: &Cache, other: &Cache, first: u32) -> u32 {
    eventually("breaker no longer open", || {
        shared(cache).breaker != BreakerState::Open
    })
    .await;
    for x in first..first + 500 {
        let before = shared(cache).writes;
        cache.scope(compute(x)).await;
        let deadline = Instant::now() + Duration::from_secs(1);
        while shared(cache).writes == before && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let runs = SLOW_RUNS.load(SeqCst);
        assert_eq!(other.scope(compute(x)).await, u64::from(x) * 3);
        if SLOW_RUNS.load(SeqCst) == runs {
            return x - first + 1;
        }
    }
    panic!("no value was shared after the outage: {:?}", shared(cache));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_killed_calls_succeed_within_budget_and_the_tier_recovers() {
    let mut server = RedisServer::start();
    let budget = Duration::from_millis(100);
    let cache = Cache::new(
        Config::new()
            .namespace("killed")
            .redis(server.config().operation_timeout(budget)),
    );
    ready(&[&cache]).await;
    server.kill();
    thousand_calls(&cache, budget).await;
    let stats = shared(&cache);
    assert!(stats.errors + stats.timeouts > 0, "{stats:?}");

    server.restart();
    let other = Cache::new(Config::new().namespace("killed").redis(patient(&server)));
    ready(&[&cache, &other]).await;
    // Recovered without restarting anything: a new value is shared again.
    let tries = until_shared_again(&cache, &other, 1001).await;
    eprintln!("shared again after {tries} tries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_frozen_calls_succeed_within_budget_and_the_tier_recovers() {
    let server = RedisServer::start();
    let budget = Duration::from_millis(100);
    let cache = Cache::new(
        Config::new()
            .namespace("frozen")
            .redis(server.config().operation_timeout(budget)),
    );
    ready(&[&cache]).await;
    server.freeze();
    thousand_calls(&cache, budget).await;
    let stats = shared(&cache);
    assert!(stats.timeouts > 0, "{stats:?}");
    assert_eq!(stats.breaker, BreakerState::Open, "{stats:?}");

    server.thaw();
    let other = Cache::new(Config::new().namespace("frozen").redis(patient(&server)));
    ready(&[&other]).await;
    until_shared_again(&cache, &other, 2001).await;
}

static GEO_RUNS: AtomicU32 = AtomicU32::new(0);
static LOCAL_RUNS: AtomicU32 = AtomicU32::new(0);

/// A library's function: where its entries live is the application's choice.
#[cached_query(store = "geo", ttl = "10m")]
async fn geocode(place: u32) -> (u32, u32) {
    GEO_RUNS.fetch_add(1, SeqCst);
    (place, place)
}

#[cached_query(local, ttl = "10m")]
async fn handle(id: u32) -> std::sync::Arc<str> {
    LOCAL_RUNS.fetch_add(1, SeqCst);
    format!("handle {id}").into()
}

#[tokio::test]
async fn memory_only_stores_and_local_functions_never_reach_redis() {
    let server = RedisServer::start();
    let make = || {
        Cache::new(
            Config::new()
                .namespace("stores")
                .memory_only_store("geo")
                .redis(patient(&server)),
        )
    };
    let (a, b) = (make(), make());
    ready(&[&a, &b]).await;
    a.scope(geocode(1)).await;
    a.scope(handle(1)).await;
    b.scope(geocode(1)).await;
    b.scope(handle(1)).await;
    assert_eq!(GEO_RUNS.load(SeqCst), 2, "each instance computed its own");
    assert_eq!(LOCAL_RUNS.load(SeqCst), 2);
    let mut direct = server.client();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("stores:v:*")
        .query(&mut direct)
        .unwrap();
    assert!(keys.is_empty(), "{keys:?}");
    a.scope(geocode(1)).await;
    assert_eq!(GEO_RUNS.load(SeqCst), 2, "still cached in memory");
}

mod version_1 {
    #[cached_query::cached_query(name = "versioned", version = 1, ttl = "10m")]
    pub async fn load(id: u32) -> Vec<u32> {
        vec![id; 2]
    }
}

mod version_2 {
    pub static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

    /// The same function after a shape change, with its version bumped.
    #[cached_query::cached_query(name = "versioned", version = 2, ttl = "10m")]
    pub async fn load(id: u32) -> Vec<u32> {
        RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        vec![id; 3]
    }
}

#[tokio::test]
async fn a_version_bump_never_reads_the_old_versions_bytes() {
    let server = RedisServer::start();
    let (a, b) = pair(&server, "version");
    ready(&[&a, &b]).await;
    assert_eq!(a.scope(version_1::load(4)).await, vec![4, 4]);
    eventually("written to Redis", || shared(&a).writes >= 1).await;
    assert_eq!(b.scope(version_2::load(4)).await, vec![4, 4, 4]);
    assert_eq!(version_2::RUNS.load(SeqCst), 1);
    assert_eq!(
        shared(&b).rejected,
        0,
        "another key altogether: nothing to refuse"
    );
}

static BOARD_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "1m", stale_while_revalidate = "10m")]
async fn board(id: u32) -> u64 {
    BOARD_RUNS.fetch_add(1, SeqCst);
    u64::from(id) * 7
}

#[tokio::test]
async fn stale_while_revalidate_refreshes_from_the_shared_store_in_the_background() {
    let server = RedisServer::start();
    let clock = cached_query::ManualClock::new();
    let a = Cache::new(
        Config::new()
            .namespace("swr")
            .clock(clock.clone())
            .redis(patient(&server)),
    );
    ready(&[&a]).await;
    assert_eq!(a.scope(board(3)).await, 21);
    eventually("written to Redis", || shared(&a).writes >= 1).await;
    let before = a.scope(async { cached_query::stats() }).await;
    let before = before.function("board").unwrap().counts;

    // Past the in-memory TTL, inside the window: the old value at once, and one background
    // refresh, which finds the shared value (still live in Redis) instead of running the body.
    clock.advance(Duration::from_secs(61));
    assert_eq!(a.scope(board(3)).await, 21);
    let counts = || {
        futures_lite_block(a.scope(async { cached_query::stats() }))
            .function("board")
            .unwrap()
            .counts
    };
    eventually("refreshed from Redis", || {
        counts().since(&before).remote_hits == 1
    })
    .await;
    let during = counts().since(&before);
    assert_eq!((during.revalidations, during.stale_served), (1, 1));
    assert_eq!(
        BOARD_RUNS.load(SeqCst),
        1,
        "the body ran once, on the first call"
    );
    assert_eq!(a.scope(board(3)).await, 21);
    assert_eq!(
        counts().since(&before).stale_served,
        1,
        "the refreshed copy is fresh"
    );
}

static TEAM_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "10m", result_tags = |ids| ids.iter().map(|id| format!("member:{id}")).collect::<Vec<_>>())]
async fn team(id: u32) -> Vec<u32> {
    TEAM_RUNS.fetch_add(1, SeqCst);
    vec![id, id + 1]
}

#[derive(Clone, Debug, PartialEq)]
pub struct Missing;

static MISSING_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "10m", cache_err = |_| true)]
async fn missing(id: u32) -> Result<u32, Missing> {
    let _ = id;
    MISSING_RUNS.fetch_add(1, SeqCst);
    Err(Missing)
}

#[tokio::test]
async fn result_tagged_values_and_cached_errors_stay_in_each_instances_memory() {
    let server = RedisServer::start();
    let (a, b) = pair(&server, "memory");
    ready(&[&a, &b]).await;
    a.scope(team(1)).await;
    a.scope(team(1)).await;
    assert_eq!(a.scope(missing(1)).await, Err(Missing));
    assert_eq!(a.scope(missing(1)).await, Err(Missing));
    assert_eq!((TEAM_RUNS.load(SeqCst), MISSING_RUNS.load(SeqCst)), (1, 1));
    b.scope(team(1)).await;
    assert_eq!(b.scope(missing(1)).await, Err(Missing));
    assert_eq!(
        (TEAM_RUNS.load(SeqCst), MISSING_RUNS.load(SeqCst)),
        (2, 2),
        "each instance computed its own"
    );
    let mut direct = server.client();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("memory:v:*")
        .query(&mut direct)
        .unwrap();
    assert!(keys.is_empty(), "{keys:?}");
    // An invalidation from the other instance still reaches the result's tags.
    b.scope(cached_query::invalidate_tag("member:2"))
        .await
        .unwrap();
    a.scope(team(1)).await;
    assert_eq!(TEAM_RUNS.load(SeqCst), 3);
}
