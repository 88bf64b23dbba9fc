//! Redis hits read on a connection of the calling runtime (`RedisConfig::caller_runtime_reads`),
//! on one server and on a cluster: only on a multi-thread runtime with IO and timers, only once
//! that runtime's connection is made, and never at the cost of a call: with Redis killed or
//! frozen, calls are answered within the budget, and reads come back to that runtime's
//! connection afterwards.

use crate::support::{RedisServer, RunsPerId, ready, shared};
use cached_query::{BreakerState, Cache, Config, RedisConfig, cached_query};
use std::time::Duration;

/// Runs of `row` per id: the tests of this file run at once and use distinct ids (1 to 4 one
/// each, 5 and 10–29 the kill, 6 and 30–49 the freeze, 7 the moved slot, 50 and 51 a miss,
/// 52–61 the masters' reads; 63 only to let a breaker probe).
static RUNS: RunsPerId = RunsPerId::new();

#[cached_query(ttl = "10m", tags = ["row:{id}"])]
async fn row(id: u32) -> u64 {
    RUNS.ran(id);
    u64::from(id) * 7
}

fn runs(id: u32) -> u32 {
    RUNS.of(id..id + 1)
}

/// A writer, and a reader whose memory holds nothing (1 byte): every call of the reader's that
/// finds the value in Redis is a Redis hit.
fn writer_and_reader(redis: impl Fn() -> RedisConfig, namespace: &str) -> (Cache, Cache) {
    let writer = Cache::new(Config::new().namespace(namespace).redis(redis()));
    let reader = Cache::new(
        Config::new()
            .namespace(namespace)
            .max_capacity_bytes(1)
            .redis(redis()),
    );
    (writer, reader)
}

/// `row(id)` on `reader` (whose memory refuses every entry, on either engine: the call reads
/// Redis).
async fn read(reader: &Cache, id: u32) -> u64 {
    reader.scope(row(id)).await
}

/// The reader's Redis hits of `row`.
fn redis_hits(reader: &Cache) -> u64 {
    let stats = crate::support::futures_lite_block(reader.scope(async { cached_query::stats() }));
    stats.function("row").map_or(0, |f| f.counts.remote_hits)
}

/// `id` computed by `writer` and written to Redis.
async fn written(writer: &Cache, id: u32) {
    let before = shared(writer).writes;
    assert_eq!(writer.scope(row(id)).await, u64::from(id) * 7);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while shared(writer).writes == before {
        assert!(
            std::time::Instant::now() < deadline,
            "not written: {:?}",
            shared(writer)
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// After an outage: the first of the ids from `first` on whose value `writer` computes and
/// writes to Redis within a second (a write queued around the outage's end may land or fail,
/// so each id is tried on its own).
async fn written_again(writer: &Cache, first: u32) -> u32 {
    for id in first..first + 20 {
        let before = shared(writer).writes;
        writer.scope(row(id)).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        while shared(writer).writes == before && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if shared(writer).writes > before {
            return id;
        }
    }
    panic!("nothing written after the outage: {:?}", shared(writer));
}

/// Reads `id` on `reader` until a read is sent on the calling runtime's connection (its first
/// read starts connecting; until the connection is made, reads go through the tier's runtime).
/// Every read must be a Redis hit.
async fn until_read_on_caller_runtime(reader: &Cache, id: u32) {
    let computed = runs(id);
    let before = shared(reader).caller_runtime_reads;
    for _ in 0..5_000 {
        assert_eq!(read(reader, id).await, u64::from(id) * 7);
        assert_eq!(runs(id), computed, "a Redis hit, not a computation");
        if shared(reader).caller_runtime_reads > before {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("no read on the caller's runtime: {:?}", shared(reader));
}

/// After an outage: calls on each of `caches` (a probe's work) until its breaker is closed.
async fn until_redis_answers(caches: &[&Cache]) {
    for cache in caches {
        for _ in 0..5_000 {
            if shared(cache).breaker == BreakerState::Closed {
                break;
            }
            cache.scope(row(63)).await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let stats = shared(cache);
        assert_eq!(stats.breaker, BreakerState::Closed, "{stats:?}");
    }
}

fn budget(server: &RedisServer) -> impl Fn() -> RedisConfig + '_ {
    || {
        server
            .config()
            .operation_timeout(Duration::from_millis(200))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_multi_thread_runtime_a_redis_hit_is_read_on_its_own_connection() {
    let server = RedisServer::start();
    let (writer, reader) = writer_and_reader(budget(&server), "caller-reads");
    ready(&[&writer, &reader]).await;
    written(&writer, 1).await;
    until_read_on_caller_runtime(&reader, 1).await;
    let stats = shared(&reader);
    assert_eq!(stats.errors + stats.timeouts, 0, "{stats:?}");
}

/// On a cluster, a Redis hit on the runtime's connection is read straight from the master
/// holding its key (`node_reads`), whichever of them it is; on one server there are no masters
/// to route to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_a_redis_hit_is_read_from_the_master_holding_its_key() {
    let server = RedisServer::start();
    let (writer, reader) = writer_and_reader(budget(&server), "caller-reads-nodes");
    ready(&[&writer, &reader]).await;
    let ids = 52..62;
    for id in ids.clone() {
        written(&writer, id).await;
    }
    until_read_on_caller_runtime(&reader, 52).await;
    // The first read of each also reads its tag's generation (a GET each, routed the same).
    let before = shared(&reader);
    for id in ids.clone() {
        assert_eq!(read(&reader, id).await, u64::from(id) * 7);
    }
    let first = shared(&reader);
    let routed = first.node_reads - before.node_reads;
    if server.is_cluster() {
        assert!(routed >= 10, "{first:?}");
    } else {
        assert_eq!(routed, 0, "{first:?}");
    }
    // Known since: the value alone.
    let before = first;
    for id in ids.clone() {
        assert_eq!(read(&reader, id).await, u64::from(id) * 7);
    }
    assert_eq!(
        RUNS.of(ids.clone()),
        10,
        "each computed once, by the writer"
    );
    let after = shared(&reader);
    let (hits, node_reads) = (
        after.caller_runtime_reads - before.caller_runtime_reads,
        after.node_reads - before.node_reads,
    );
    assert_eq!(hits, 10, "{after:?}");
    let expected = if server.is_cluster() { 10 } else { 0 };
    assert_eq!(node_reads, expected, "{after:?}");
}

/// On a cluster, a value whose slot moved to another master after the runtime learned the
/// routes: its old master answers `MOVED`, and the read goes through the cluster connection (a
/// Redis hit all the same); then the runtime learns the routes again and reads straight from
/// the new master.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_whose_slot_moved_is_read_through_the_cluster_then_routed_again() {
    let server = RedisServer::start();
    if !server.is_cluster() {
        return; // one server: no slots to move
    }
    let (writer, reader) = writer_and_reader(budget(&server), "caller-reads-moved");
    ready(&[&writer, &reader]).await;
    written(&writer, 7).await;
    until_read_on_caller_runtime(&reader, 7).await;
    assert_eq!(read(&reader, 7).await, 49);
    assert!(shared(&reader).node_reads > 0, "{:?}", shared(&reader));

    let (from, key) = (0..server.node_count())
        .find_map(|i| {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg("caller-reads-moved:v:*")
                .query(&mut server.node_client(i))
                .ok()?;
            keys.into_iter().next().map(|key| (i, key))
        })
        .expect("the value in Redis");
    server.move_slot_of(&key, from, (from + 1) % server.node_count());

    let computed = runs(7);
    let moved = shared(&reader).node_reads;
    assert_eq!(read(&reader, 7).await, 49);
    assert_eq!(runs(7), computed, "a Redis hit, not a computation");
    let stats = shared(&reader);
    assert_eq!(
        stats.node_reads, moved,
        "not answered by the old master: {stats:?}"
    );
    for _ in 0..5_000 {
        if shared(&reader).node_reads > moved {
            break;
        }
        assert_eq!(read(&reader, 7).await, 49);
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let stats = shared(&reader);
    assert!(stats.node_reads > moved, "routed again: {stats:?}");
    assert_eq!(runs(7), computed, "every read a Redis hit");
}

/// A miss's two round trips (the value's read, then the read script that returns the tags'
/// generations to write under) are both sent on the runtime's connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_miss_reads_both_its_round_trips_on_the_runtimes_connection() {
    let server = RedisServer::start();
    let (_writer, reader) = reading_on_caller_runtime(&server, "caller-reads-miss", 50).await;
    let before = shared(&reader);
    assert_eq!(read(&reader, 51).await, 357);
    assert_eq!(runs(51), 1, "computed: in Redis neither");
    let after = shared(&reader);
    assert_eq!(
        after.caller_runtime_reads - before.caller_runtime_reads,
        2,
        "{after:?}"
    );
}

#[tokio::test]
async fn on_a_current_thread_runtime_reads_go_through_the_tiers_runtime() {
    let server = RedisServer::start();
    let (writer, reader) = writer_and_reader(budget(&server), "caller-reads-ct");
    ready(&[&writer, &reader]).await;
    written(&writer, 2).await;
    for _ in 0..50 {
        assert_eq!(read(&reader, 2).await, 14);
    }
    assert_eq!(runs(2), 1, "every read a Redis hit");
    assert!(redis_hits(&reader) >= 50, "read from Redis");
    assert_eq!(shared(&reader).caller_runtime_reads, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turned_off_reads_go_through_the_tiers_runtime() {
    let server = RedisServer::start();
    let off = || budget(&server)().caller_runtime_reads(false);
    let (writer, reader) = writer_and_reader(off, "caller-reads-off");
    ready(&[&writer, &reader]).await;
    written(&writer, 3).await;
    for _ in 0..50 {
        assert_eq!(read(&reader, 3).await, 21);
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(runs(3), 1, "every read a Redis hit");
    assert!(redis_hits(&reader) >= 50, "read from Redis");
    assert_eq!(shared(&reader).caller_runtime_reads, 0);
}

/// A multi-thread runtime built without IO or timers: the task that would connect there
/// panics inside it (tokio keeps the panic in the task, and prints it), and every read goes
/// through the tier's runtime, answered.
#[test]
fn a_runtime_without_io_or_timers_is_served_through_the_tiers_runtime() {
    let server = RedisServer::start();
    let (writer, reader) = writer_and_reader(budget(&server), "caller-reads-bare");
    let full = tokio::runtime::Runtime::new().unwrap();
    full.block_on(async {
        ready(&[&writer, &reader]).await;
        written(&writer, 4).await;
    });
    let bare = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    for _ in 0..50 {
        assert_eq!(bare.block_on(read(&reader, 4)), 28);
    }
    assert_eq!(runs(4), 1, "every read a Redis hit");
    assert!(redis_hits(&reader) >= 50, "read from Redis");
    let stats = shared(&reader);
    assert_eq!(stats.caller_runtime_reads, 0, "{stats:?}");
    assert_eq!(stats.errors + stats.timeouts, 0, "{stats:?}");
}

/// A writer and a reader, `id` written, and the reader's reads of it on the runtime's own
/// connection.
async fn reading_on_caller_runtime(
    server: &RedisServer,
    namespace: &str,
    id: u32,
) -> (Cache, Cache) {
    let (writer, reader) = writer_and_reader(budget(server), namespace);
    ready(&[&writer, &reader]).await;
    written(&writer, id).await;
    until_read_on_caller_runtime(&reader, id).await;
    (writer, reader)
}

/// Redis killed while a runtime reads on its own connection: calls are answered (computed)
/// within the budget; once Redis is back, that runtime connects again and reads there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_then_restarted_reads_come_back_to_the_runtimes_connection() {
    let mut server = RedisServer::start();
    let (writer, reader) = reading_on_caller_runtime(&server, "caller-reads-killed", 5).await;

    server.kill();
    for _ in 0..20 {
        assert_eq!(read(&reader, 5).await, 35, "answered without Redis");
    }
    let down = shared(&reader);
    assert!(down.errors + down.timeouts > 0, "{down:?}");

    server.restart();
    ready(&[&writer, &reader]).await;
    until_redis_answers(&[&writer, &reader]).await;
    // Redis restarted empty: written again, then read on the runtime's new connection.
    let id = written_again(&writer, 10).await;
    until_read_on_caller_runtime(&reader, id).await;
}

/// Redis frozen (connections open, nothing answers): reads on the runtime's connection time out
/// within the budget, counted, and the calls are answered; after the thaw they are Redis hits
/// again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_then_thawed_reads_time_out_within_budget_then_hit_again() {
    let server = RedisServer::start();
    let (writer, reader) = reading_on_caller_runtime(&server, "caller-reads-frozen", 6).await;

    server.freeze();
    for _ in 0..10 {
        assert_eq!(read(&reader, 6).await, 42, "answered without Redis");
    }
    let frozen = shared(&reader);
    assert!(frozen.timeouts > 0, "{frozen:?}");

    server.thaw();
    until_redis_answers(&[&writer, &reader]).await;
    let id = written_again(&writer, 30).await;
    until_read_on_caller_runtime(&reader, id).await;
}
