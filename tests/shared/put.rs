//! `#[cache_put]` and counters across instances sharing one Redis.

use crate::support::{RedisServer, eventually, pair, patient, ready, shared};
use cached_query::{Cache, Config, cache_put, cached_query};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;
use tokio::sync::Notify;

static ITEM_RUNS: AtomicU32 = AtomicU32::new(0);
static ITEM_NAME: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

#[cached_query(ttl = "10m", tags = ["put_item:{id}"])]
async fn put_item(id: u32) -> Result<String, String> {
    ITEM_RUNS.fetch_add(1, SeqCst);
    Ok(format!("{id}: {}", ITEM_NAME.lock().unwrap()))
}

#[cache_put(put_item(id))]
async fn put_rename_item(id: u32, name: String) -> Result<String, String> {
    name.clone_into(&mut ITEM_NAME.lock().unwrap());
    Ok(format!("{id}: {name}"))
}

fn patient_pair(server: &RedisServer, namespace: &str) -> (Cache, Cache) {
    let make = || Cache::new(Config::new().namespace(namespace).redis(patient(server)));
    (make(), make())
}

#[tokio::test]
async fn after_a_put_the_other_instances_next_read_returns_the_new_value() {
    let server = RedisServer::start();
    let (a, b) = patient_pair(&server, "put");
    ready(&[&a, &b]).await;
    "old".clone_into(&mut ITEM_NAME.lock().unwrap());
    assert_eq!(a.scope(put_item(1)).await.unwrap(), "1: old");
    eventually("written to Redis", || shared(&a).writes >= 1).await;
    assert_eq!(b.scope(put_item(1)).await.unwrap(), "1: old");
    assert_eq!(
        ITEM_RUNS.load(SeqCst),
        1,
        "both hold the old value in memory now"
    );

    for round in 0..20 {
        let name = format!("new {round}");
        let (writer, other) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let written = writer.scope(put_rename_item(1, name.clone())).await;
        assert_eq!(written, Ok(format!("1: {name}")));
        // No sleep, no retry: the very next read on either instance has the new value.
        assert_eq!(
            other.scope(put_item(1)).await,
            written,
            "round {round}, other"
        );
        assert_eq!(
            writer.scope(put_item(1)).await,
            written,
            "round {round}, writer"
        );
    }
    assert_eq!(ITEM_RUNS.load(SeqCst), 1, "no read ran its body");

    // A third instance, memory empty: the value is in Redis.
    let c = Cache::new(Config::new().namespace("put").redis(patient(&server)));
    ready(&[&c]).await;
    assert_eq!(c.scope(put_item(1)).await.unwrap(), "1: new 19");
    assert_eq!(ITEM_RUNS.load(SeqCst), 1);
    let stats = shared(&a);
    assert_eq!(stats.errors + stats.timeouts, 0, "{stats:?}");
}

static DOWN_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "10m")]
async fn put_down_read(id: u32) -> u32 {
    DOWN_RUNS.fetch_add(1, SeqCst);
    id
}

#[cache_put(put_down_read(id))]
async fn put_down_write(id: u32, value: u32) -> u32 {
    let _ = id;
    value
}

#[tokio::test]
async fn with_redis_killed_a_put_returns_and_this_instance_has_the_value() {
    let mut server = RedisServer::start();
    let (a, _b) = pair(&server, "put-down");
    ready(&[&a]).await;
    server.kill();
    assert_eq!(a.scope(put_down_write(3, 30)).await, 30);
    assert_eq!(a.scope(put_down_read(3)).await, 30);
    assert_eq!(DOWN_RUNS.load(SeqCst), 0);
    let stats = shared(&a);
    assert!(stats.errors + stats.timeouts > 0, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_increments_on_two_instances_count_a_thousand() {
    let server = RedisServer::start();
    let (a, b) = patient_pair(&server, "counter");
    ready(&[&a, &b]).await;
    let minute = Duration::from_secs(60);
    let increments: Vec<_> = (0..1_000)
        .map(|i| {
            let cache = if i % 2 == 0 { a } else { b };
            tokio::spawn(async move { cache.increment(&"visits", 1, minute).await })
        })
        .collect();
    let mut seen = Vec::new();
    for increment in increments {
        seen.push(increment.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=1_000).collect::<Vec<i64>>(),
        "each saw its own count"
    );
    assert_eq!(a.increment(&"visits", 0, minute).await, 1_000);
    assert_eq!(b.decrement(&"visits", 1, minute).await, 999);
    for cache in [&a, &b] {
        let stats = shared(cache);
        assert_eq!(stats.errors + stats.timeouts, 0, "{stats:?}");
    }

    // One Redis integer, with the TTL set when it was created.
    let mut direct = server.client();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("counter:v:*")
        .query(&mut direct)
        .unwrap();
    assert_eq!(keys.len(), 1);
    let count: i64 = redis::cmd("GET").arg(&keys[0]).query(&mut direct).unwrap();
    assert_eq!(count, 999);
    let ttl: i64 = redis::cmd("PTTL").arg(&keys[0]).query(&mut direct).unwrap();
    assert!(ttl > 0 && ttl <= 60_000, "{ttl}");

    // A forever counter has no TTL; forgetting the key removes it in Redis too.
    a.increment(&"forever", 1, cached_query::FOREVER).await;
    assert!(a.forget_key(&"visits").await);
    assert_eq!(b.increment(&"visits", 1, minute).await, 1);
}

#[tokio::test]
async fn data_under_a_counters_key_that_is_not_an_integer_is_replaced() {
    let server = RedisServer::start();
    let (a, _b) = patient_pair(&server, "counter-foreign");
    ready(&[&a]).await;
    let minute = Duration::from_secs(60);
    a.put(&"mixed", "text".to_string(), minute, &[]).await;
    eventually("written to Redis", || shared(&a).writes >= 1).await;
    let fresh = Cache::new(
        Config::new()
            .namespace("counter-foreign")
            .redis(patient(&server)),
    );
    assert_eq!(fresh.increment(&"mixed", 5, minute).await, 5);
    assert_eq!(shared(&fresh).errors, 0);
}

#[tokio::test]
async fn a_pull_on_one_instance_removes_the_value_from_every_instance() {
    let server = RedisServer::start();
    let (a, b) = patient_pair(&server, "pull");
    ready(&[&a, &b]).await;
    let minute = Duration::from_secs(60);
    let computed = AtomicU32::new(0);
    let compute = || async {
        computed.fetch_add(1, SeqCst);
        "prize".to_string()
    };
    assert_eq!(a.remember(&"prize", minute, &[], compute).await, "prize");
    eventually("written to Redis", || shared(&a).writes >= 1).await;
    assert_eq!(b.remember(&"prize", minute, &[], compute).await, "prize");
    assert_eq!(
        computed.load(SeqCst),
        1,
        "b read it from Redis: both hold it now"
    );

    assert_eq!(
        a.pull::<_, String>(&"prize").await.as_deref(),
        Some("prize")
    );
    assert_eq!(
        b.pull::<_, String>(&"prize").await,
        None,
        "b's copy was dropped"
    );
    assert_eq!(b.remember(&"prize", minute, &[], compute).await, "prize");
    assert_eq!(computed.load(SeqCst), 2, "and Redis no longer had it");
}

// A fill computed from data read before a put must not replace the put's value.

static FENCED_RUNS: AtomicU32 = AtomicU32::new(0);
static FENCED_NAME: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
/// While set, a computation of `fenced_read` stops after reading the data, until released.
static HOLD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static READ_DONE: LazyLock<Notify> = LazyLock::new(Notify::new);
static RELEASE: LazyLock<Notify> = LazyLock::new(Notify::new);

#[cached_query(ttl = "10m", tags = ["fenced:{id}"])]
async fn fenced_read(id: u32) -> String {
    FENCED_RUNS.fetch_add(1, SeqCst);
    let name = FENCED_NAME.lock().unwrap().clone();
    if HOLD.load(SeqCst) {
        READ_DONE.notify_one();
        RELEASE.notified().await;
    }
    format!("{id}: {name}")
}

#[cache_put(fenced_read(id))]
async fn fenced_rename(id: u32, name: String) -> String {
    name.clone_into(&mut FENCED_NAME.lock().unwrap());
    format!("{id}: {name}")
}

/// Runs `read` on `reader` until its body has read the data, then the put on `writer`, then
/// lets the read finish: what the read returned to its caller.
async fn read_across_a_put<F>(reader: &Cache, writer: &Cache, id: u32, read: F) -> String
where
    F: Future<Output = String> + Send + 'static,
{
    HOLD.store(true, SeqCst);
    let reader = *reader;
    let reading = tokio::spawn(async move { reader.scope(read).await });
    READ_DONE.notified().await;
    HOLD.store(false, SeqCst);
    let put = writer.scope(fenced_rename(id, "new".into())).await;
    assert_eq!(put, format!("{id}: new"));
    RELEASE.notify_one();
    reading.await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fill_computed_before_a_put_on_another_instance_does_not_replace_it() {
    let server = RedisServer::start();
    let (a, b) = patient_pair(&server, "fenced");
    ready(&[&a, &b]).await;
    "old".clone_into(&mut FENCED_NAME.lock().unwrap());

    // b computes key 1 from the old data while a's put lands: b's caller gets what b read,
    // but b keeps nothing of it (the put's key-level drop stopped its computation).
    let read = read_across_a_put(&b, &a, 1, fenced_read(1)).await;
    assert_eq!(read, "1: old");
    let runs = FENCED_RUNS.load(SeqCst);
    assert_eq!(b.scope(fenced_read(1)).await, "1: new");
    assert_eq!(a.scope(fenced_read(1)).await, "1: new");
    assert_eq!(
        FENCED_RUNS.load(SeqCst),
        runs,
        "both answered from the put's value"
    );

    // The same with a refresh, which runs outside single-flight: the key-level drop reaches it
    // too, and b keeps nothing of what it read before the put.
    "old".clone_into(&mut FENCED_NAME.lock().unwrap());
    let read = read_across_a_put(&b, &a, 2, cached_query::refresh(fenced_read(2))).await;
    assert_eq!(read, "2: old");
    let runs = FENCED_RUNS.load(SeqCst);
    assert_eq!(b.scope(fenced_read(2)).await, "2: new");
    let c = Cache::new(Config::new().namespace("fenced").redis(patient(&server)));
    ready(&[&c]).await;
    assert_eq!(c.scope(fenced_read(2)).await, "2: new");
    assert_eq!(
        FENCED_RUNS.load(SeqCst),
        runs,
        "b and c answered from the put's value"
    );
    for cache in [&a, &b, &c] {
        let stats = shared(cache);
        assert_eq!(stats.errors + stats.timeouts, 0, "{stats:?}");
    }
}
