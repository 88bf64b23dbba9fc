//! Invalidations during an outage (issue 11): one the tier could not confirm is kept and
//! replayed when Redis is back, before the instance reads anything from Redis again, so that no
//! instance (the invalidating one, another, a new one) serves the old value afterwards.

use crate::support::{RedisServer, eventually, patient, ready, shared};
use cached_query::{BreakerState, Cache, Config, cached_query};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

/// The source of truth: the document's current version.
static VERSION: AtomicU64 = AtomicU64::new(1);

#[cached_query(ttl = "10m", tags = ["doc:{id}"])]
async fn doc(id: u32) -> u64 {
    let _ = id; // part of the key and of the tag
    VERSION.load(SeqCst)
}

/// An instance whose breaker opens at the first failure and stays open long enough for the
/// invalidation below to be refused without reaching Redis at all.
fn instance(server: &RedisServer, namespace: &str) -> Cache {
    Cache::new(
        Config::new().namespace(namespace).redis(
            server
                .config()
                .operation_timeout(Duration::from_millis(100))
                .breaker(1, Duration::from_millis(300)),
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_refused_during_an_outage_is_replayed_before_redis_is_read_again() {
    let server = RedisServer::start();
    let (a, b) = (instance(&server, "outage"), instance(&server, "outage"));
    ready(&[&a, &b]).await;
    assert_eq!(a.scope(doc(1)).await, 1);
    eventually("written to Redis", || shared(&a).writes >= 1).await;
    assert_eq!(b.scope(doc(1)).await, 1, "b holds version 1 too");

    server.freeze();
    assert_eq!(
        a.scope(doc(2)).await,
        1,
        "a call that times out opens a's breaker"
    );
    assert_eq!(shared(&a).breaker, BreakerState::Open);
    VERSION.store(2, SeqCst);
    let refused = a.scope(cached_query::invalidate_tag("doc:1")).await;
    assert!(refused.is_err(), "the tier could not confirm it");
    server.thaw();

    // Back: once the cool-down ends, a's next call reaches Redis.
    let cooled = Instant::now() + Duration::from_secs(5);
    while shared(&a).breaker == BreakerState::Open {
        assert!(Instant::now() < cooled, "the breaker never cooled down");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(
        a.scope(doc(1)).await,
        2,
        "a never reads version 1 back from Redis"
    );
    assert_eq!(
        b.scope(doc(1)).await,
        2,
        "b applied the replayed invalidation"
    );
    let c = Cache::new(Config::new().namespace("outage").redis(patient(&server)));
    ready(&[&c]).await;
    assert_eq!(
        c.scope(doc(1)).await,
        2,
        "a new instance reads no old value"
    );
    let stats = shared(&a);
    assert_eq!(
        (
            stats.invalidations_failed,
            stats.invalidations_pending,
            stats.invalidations_replayed
        ),
        (1, 0, 1),
        "counted when refused, replayed once: {stats:?}"
    );
}

static GEN_VERSION: AtomicU64 = AtomicU64::new(10);

#[cached_query(ttl = "10m", tags = ["gdoc:{id}"])]
async fn gen_doc(id: u32) -> u64 {
    let _ = id;
    GEN_VERSION.load(SeqCst)
}

/// Tag counters can vanish from Redis (evicted, or a `FLUSHALL`). An invalidation that
/// recreated one by `INCR` would restart it at 1, a generation a stored value may already carry.
#[tokio::test]
async fn a_tag_generation_never_goes_back_to_one_already_used() {
    let server = RedisServer::start();
    let (a, b) = crate::support::pair(&server, "generations");
    ready(&[&a, &b]).await;
    let mut direct = server.client();
    let evict = |direct: &mut crate::support::Direct| {
        let _: () = redis::cmd("DEL")
            .arg("generations:t:gdoc:7")
            .query(direct)
            .unwrap();
    };

    evict(&mut direct);
    a.scope(cached_query::invalidate_tag("gdoc:7"))
        .await
        .unwrap();
    assert_eq!(a.scope(gen_doc(7)).await, 10);
    eventually("written to Redis", || shared(&a).writes >= 1).await;

    evict(&mut direct);
    GEN_VERSION.store(11, SeqCst);
    a.scope(cached_query::invalidate_tag("gdoc:7"))
        .await
        .unwrap();
    assert_eq!(
        b.scope(gen_doc(7)).await,
        11,
        "the first value does not validate again"
    );
}
