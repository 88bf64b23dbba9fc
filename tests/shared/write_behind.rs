//! The write-behind queue keeps up with a miss-heavy load (issue 11): it drains in batches,
//! several values per round trip, instead of one round trip per value (which let ~150 writes
//! a second through and dropped the rest). Throughput itself is measured by
//! `benches/shared_writes.rs`; this counts round trips, which do not depend on the machine.

use crate::support::{RedisServer, eventually, ready, shared};
use cached_query::{Cache, Config, cached_query};
use std::time::Duration;

#[cached_query(ttl = "10m", tags = ["burst:{id}"])]
async fn burst(id: u32) -> u32 {
    id
}

/// Calls of `EVALSHA` the nodes have answered (read and write scripts alike).
fn script_calls(server: &RedisServer) -> u64 {
    server.command_calls().get("evalsha").copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_misses_is_written_in_batches_and_none_is_dropped() {
    const MISSES: u32 = 1_000; // fewer than the queue holds (1,024): none may be dropped
    let server = RedisServer::start();
    // A budget no read of the burst runs out of (a debug build on a busy machine), so every
    // miss has generations to write its value under. Its reads share the writes' connection (the
    // tier's), as every read did before reads moved to the callers' runtimes: the writes then
    // queue up behind a burst of reads, which is what batching is for. (With the reads on the
    // callers' connections, the writes' connection is free and values go out nearly as they
    // come, in batches of whatever queued meanwhile: 1 to 5 values per round trip here.)
    let cache = Cache::new(
        Config::new().namespace("burst").redis(
            server
                .config()
                .operation_timeout(Duration::from_secs(10))
                .caller_runtime_reads(false),
        ),
    );
    ready(&[&cache]).await;
    let before = script_calls(&server);
    let calls: Vec<_> = (0..MISSES)
        .map(|id| tokio::spawn(async move { cache.scope(burst(id)).await }))
        .collect();
    for (id, call) in calls.into_iter().enumerate() {
        assert_eq!(call.await.unwrap(), id as u32);
    }
    eventually("every value written", || {
        shared(&cache).writes == u64::from(MISSES)
    })
    .await;
    let stats = shared(&cache);
    assert_eq!(stats.writes_dropped, 0, "{stats:?}");
    if crate::support::on_cluster() {
        // A script per value (a batch spans slots), sent side by side: nothing to count here.
        return;
    }
    // One read script per miss; whatever else ran wrote the values.
    let write_round_trips = script_calls(&server) - before - u64::from(MISSES);
    eprintln!("{MISSES} values written in {write_round_trips} round trips");
    // One per value before batching. Batches are as large as what queued up while the previous
    // one was in flight (behind the burst's reads, on the same connection): 6 to 190 round trips
    // were seen; two values per round trip on average is the bound.
    assert!(
        write_round_trips * 2 <= u64::from(MISSES),
        "{write_round_trips} round trips for {MISSES} writes: not batched"
    );
}
