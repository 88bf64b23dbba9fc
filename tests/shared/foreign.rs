//! Foreign data under our keys (issue 11): another program's value, a key of the wrong Redis
//! type, a hash (as values were once stored), a "none" marker read by a function that cannot
//! return one.
//! Each is a refused value: counted in `rejected`, recomputed, overwritten by the next write;
//! never a tier error, never a reason to open the breaker.

use crate::support::{RedisServer, RunsPerId, eventually, pair, patient, ready, shared};
use cached_query::{BreakerState, Cache, Config, cached_query};
use std::sync::atomic::Ordering::SeqCst;

/// Runs of `foreign_probe` per id: the tests of this file run at once and use distinct ids, so
/// each counts only its own.
static RUNS: RunsPerId = RunsPerId::new();

#[cached_query(ttl = "10m", tags = ["foreign:{id}"])]
async fn foreign_probe(id: u32) -> u64 {
    RUNS.ran(id);
    u64::from(id) * 11
}

/// How many times `foreign_probe` ran for the ids in `ids`.
fn runs(ids: std::ops::Range<u32>) -> u32 {
    RUNS.of(ids)
}

/// The value keys of `namespace`, in the order the calls `0..n` wrote them.
fn value_keys(server: &RedisServer, namespace: &str, n: usize) -> Vec<String> {
    let mut direct = server.client();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{namespace}:v:*"))
        .query(&mut direct)
        .unwrap();
    assert_eq!(keys.len(), n, "{keys:?}");
    keys
}

fn redis_type(server: &RedisServer, key: &str) -> String {
    redis::cmd("TYPE")
        .arg(key)
        .query(&mut server.client())
        .unwrap()
}

#[tokio::test]
async fn values_of_the_wrong_redis_type_are_refused_never_errors_and_get_overwritten() {
    let server = RedisServer::start();
    let (a, b) = pair(&server, "foreign");
    ready(&[&a, &b]).await;
    const N: u32 = 12;
    for id in 0..N {
        assert_eq!(a.scope(foreign_probe(id)).await, u64::from(id) * 11);
    }
    eventually("written to Redis", || shared(&a).writes >= u64::from(N)).await;
    let keys = value_keys(&server, "foreign", N as usize);

    // Twelve kinds of squatter, more than the breaker's five failures.
    let mut direct = server.client();
    for (i, key) in keys.iter().enumerate() {
        let _: () = redis::cmd("DEL").arg(key).query(&mut direct).unwrap();
        let mut squat = match i % 4 {
            0 => redis::cmd("SET"),
            1 => redis::cmd("LPUSH"),
            2 => redis::cmd("SADD"),
            _ => redis::cmd("HSET"), // a hash (as values once were), not ours
        };
        squat.arg(key);
        if i % 4 == 3 {
            squat.arg("owner");
        }
        squat.arg("");
        let _: () = squat.query(&mut direct).unwrap();
    }

    let before = runs(0..N);
    for id in 0..N {
        assert_eq!(b.scope(foreign_probe(id)).await, u64::from(id) * 11);
    }
    assert_eq!(runs(0..N), before + N, "each squatted key was recomputed");
    let stats = shared(&b);
    assert_eq!(
        stats.errors, 0,
        "foreign data is not a tier error: {stats:?}"
    );
    assert_eq!(stats.breaker, BreakerState::Closed, "{stats:?}");
    assert_eq!(stats.rejected, u64::from(N), "each one refused: {stats:?}");

    eventually("every squatter overwritten with our value", || {
        keys.iter().all(|key| {
            let header: Vec<u8> = redis::cmd("GETRANGE")
                .arg(key)
                .arg(0)
                .arg(3)
                .query(&mut server.client())
                .unwrap_or_default();
            redis_type(&server, key) == "string" && header == b"cq1|"
        })
    })
    .await;
    // A third instance reads them back as ours.
    let c = Cache::new(Config::new().namespace("foreign").redis(patient(&server)));
    ready(&[&c]).await;
    let before = runs(0..N);
    for id in 0..N {
        assert_eq!(c.scope(foreign_probe(id)).await, u64::from(id) * 11);
    }
    assert_eq!(runs(0..N), before, "all read from Redis");
}

#[tokio::test]
async fn a_tag_counter_of_the_wrong_type_is_replaced_never_an_error() {
    let server = RedisServer::start();
    let (a, b) = pair(&server, "foreign-tag");
    ready(&[&a, &b]).await;
    assert_eq!(a.scope(foreign_probe(40)).await, 440);
    eventually("written to Redis", || shared(&a).writes >= 1).await;
    let mut direct = server.client();
    let tag_key = "foreign-tag:t:foreign:40";
    let _: () = redis::cmd("DEL").arg(tag_key).query(&mut direct).unwrap();
    let _: () = redis::cmd("LPUSH")
        .arg(tag_key)
        .arg("x")
        .query(&mut direct)
        .unwrap();

    let before = runs(40..41);
    assert_eq!(b.scope(foreign_probe(40)).await, 440);
    assert_eq!(
        runs(40..41),
        before + 1,
        "the old generations no longer hold"
    );
    assert_eq!(
        redis_type(&server, tag_key),
        "string",
        "replaced by a counter"
    );
    // Invalidating through it works again (and reaches the other instance).
    a.scope(cached_query::invalidate_tag("foreign:40"))
        .await
        .expect("confirmed");
    let (sa, sb) = (shared(&a), shared(&b));
    assert_eq!(sa.errors + sb.errors, 0, "{sa:?} {sb:?}");
    assert!(sb.rejected >= 1, "{sb:?}");
}

mod strict_result {
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    pub static RUNS: AtomicU32 = AtomicU32::new(0);

    /// Shares its key with `maybe` (same name), but a `Result` cannot hold a cached `None`.
    #[cached_query::cached_query(name = "none-marker", ttl = "10m")]
    pub async fn load(id: u32) -> Result<u32, String> {
        RUNS.fetch_add(1, SeqCst);
        Ok(id)
    }
}

mod optional {
    /// Writes a cached `None` under the name `strict_result::load` reads.
    #[cached_query::cached_query(name = "none-marker", ttl = "10m", cache_none)]
    pub async fn load(id: u32) -> Option<u32> {
        let _ = id;
        None
    }
}

#[tokio::test]
async fn a_none_marker_read_by_a_function_that_cannot_return_none_is_refused() {
    let server = RedisServer::start();
    let (a, b) = pair(&server, "none-marker");
    ready(&[&a, &b]).await;
    assert_eq!(a.scope(optional::load(1)).await, None);
    eventually("written to Redis", || shared(&a).writes >= 1).await;
    // Both store a `u32`, so the marker passes the schema fingerprint: it must be refused by
    // its kind.
    assert_eq!(b.scope(strict_result::load(1)).await, Ok(1));
    assert_eq!(strict_result::RUNS.load(SeqCst), 1);
    assert_eq!(shared(&b).rejected, 1, "{:?}", shared(&b));
    assert_eq!(b.scope(strict_result::load(1)).await, Ok(1));
    assert_eq!(strict_result::RUNS.load(SeqCst), 1, "then kept in memory");
}
