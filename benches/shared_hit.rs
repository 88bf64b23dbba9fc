//! The shared tier's own cost (issue 15), against a `redis-server` this benchmark starts on a
//! free loopback port, then against a 3-master Redis Cluster it starts:
//!
//! * **a Redis hit** (memory cold, Redis warm) through `#[cached_query]`, against a raw
//!   redis-rs `GET` of the same bytes on the same kind of connection (a `ConnectionManager`; a
//!   cluster connection on the cluster),
//!   16 concurrent callers each, in the same run: throughput (criterion, `shared_hit` group;
//!   each iteration is one call, so its time is the inverse of the throughput);
//! * **commands per hit**, from `INFO commandstats` around 1,000 hits: the round trips (script
//!   calls) and the commands Redis ran inside them;
//! * **an invalidation's round trips**, with two instances subscribed: what the invalidating
//!   call sends, and what the instances send back.
//!
//! Memory stays cold because the instance's memory is 1 byte: every entry is refused, so every
//! call reads Redis (checked: the run's calls must all be counted as shared hits).
//! Run by `scripts/bench.sh`; the counts go to `$CQ_BENCH_OUT/shared_hit.tsv`. Under
//! `cargo test --all-targets`, a smoke run; skipped (with a note) without `redis-server`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // a bench

mod support;

use cached_query::{Cache, Config, RedisConfig, cached_query};
use criterion::{BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use redis::aio::ConnectionLike;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::servers::{self, RedisServer};

/// Concurrent callers on each side.
const CALLERS: u64 = 16;
/// Keys the callers cycle through (all warm in Redis).
const KEYS: u32 = 64;
/// The value: 256 bytes, as a small row would encode.
const PAYLOAD: usize = 256;

#[cached_query(ttl = "1h", tags = ["blob:{id}"])]
async fn blob(id: u32) -> Vec<u8> {
    vec![id as u8; PAYLOAD]
}

/// Commands run between two `INFO commandstats` readings, `info` itself left out.
fn delta(before: &HashMap<String, u64>, after: &HashMap<String, u64>) -> Vec<(String, u64)> {
    let mut ran: Vec<(String, u64)> = after
        .iter()
        .map(|(name, n)| (name.clone(), n - before.get(name).copied().unwrap_or(0)))
        .filter(|(name, n)| *n > 0 && name != "info")
        .collect();
    ran.sort();
    ran
}

fn redis_config(servers: &RedisServer) -> RedisConfig {
    let urls = servers.urls();
    let config = if urls.len() > 1 {
        RedisConfig::cluster(urls)
    } else {
        RedisConfig::new(urls[0].clone())
    };
    config.operation_timeout(Duration::from_secs(2))
}

fn instance(servers: &RedisServer) -> Cache {
    Cache::new(
        Config::new()
            .namespace("bench-hit")
            .max_capacity_bytes(1)
            .redis(redis_config(servers)),
    )
}

fn shared_hits(cache: &Cache) -> u64 {
    cache
        .stats()
        .function("blob")
        .map_or(0, |f| f.counts.remote_hits)
}

/// `iters` calls from [`CALLERS`] tasks; how long they took.
async fn ours(cache: Cache, iters: u64) -> Duration {
    let started = Instant::now();
    let callers: Vec<_> = (0..CALLERS)
        .map(|caller| {
            tokio::spawn(async move {
                for n in 0..iters / CALLERS + u64::from(caller < iters % CALLERS) {
                    let id = ((n * CALLERS + caller) % u64::from(KEYS)) as u32;
                    std::hint::black_box(cache.scope(blob(id)).await);
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap();
    }
    started.elapsed()
}

/// The same with raw `GET`s of the same bytes.
async fn raw<C>(connection: C, iters: u64) -> Duration
where
    C: ConnectionLike + Clone + Send + 'static,
{
    let started = Instant::now();
    let callers: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let mut connection = connection.clone();
            tokio::spawn(async move {
                for n in 0..iters / CALLERS + u64::from(caller < iters % CALLERS) {
                    let id = (n * CALLERS + caller) % u64::from(KEYS);
                    let bytes: Vec<u8> = redis::cmd("GET")
                        .arg(format!("raw:{id}"))
                        .query_async(&mut connection)
                        .await
                        .unwrap();
                    std::hint::black_box(bytes);
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap();
    }
    started.elapsed()
}

/// A direct connection for filling Redis (a cluster connection on a cluster).
fn direct(servers: &RedisServer) -> Box<dyn redis::ConnectionLike> {
    let urls = servers.urls();
    if urls.len() > 1 {
        Box::new(
            redis::cluster::ClusterClient::new(urls)
                .and_then(|c| c.get_connection())
                .unwrap(),
        )
    } else {
        Box::new(
            redis::Client::open(urls[0].as_str())
                .and_then(|c| c.get_connection())
                .unwrap(),
        )
    }
}

/// Fills Redis: our values (computed once by another instance), and the same payload bytes
/// under plain keys for the raw side.
async fn warm(servers: &RedisServer) {
    let writer = instance(servers);
    for id in 0..KEYS {
        writer.scope(blob(id)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while writer.stats().shared.unwrap().writes < u64::from(KEYS) {
        assert!(Instant::now() < deadline, "values never written");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut direct = direct(servers);
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("bench-hit:v:*")
        .query(direct.as_mut())
        .unwrap();
    assert_eq!(keys.len(), KEYS as usize);
    for (id, key) in keys.iter().enumerate() {
        let stored: Vec<u8> = redis::cmd("GET").arg(key).query(direct.as_mut()).unwrap();
        // The payload alone, without our header line.
        let header_end = stored.iter().position(|b| *b == b'\n').unwrap() + 1;
        let payload = &stored[header_end..];
        let _: () = redis::cmd("SET")
            .arg(format!("raw:{id}"))
            .arg(payload)
            .query(direct.as_mut())
            .unwrap();
    }
}

/// Waits until `caches` all listen to invalidations.
async fn subscribed(caches: &[&Cache]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    for cache in caches {
        while !cache.stats().shared.unwrap().subscribed {
            assert!(Instant::now() < deadline, "never subscribed");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

/// One topology: the two sides under criterion, then the counts (as TSV lines).
fn topology(
    name: &str,
    servers: &RedisServer,
    rt: &tokio::runtime::Runtime,
    group: &mut BenchmarkGroup<'_, WallTime>,
) -> String {
    rt.block_on(warm(servers));
    let cache = instance(servers);
    let urls = servers.urls();
    let suffix = if urls.len() > 1 { "_cluster" } else { "" };
    let before = shared_hits(&cache);
    let mut calls = 0;
    // Both connections made, and every key once through each side.
    calls += u64::from(KEYS);
    rt.block_on(ours(cache, u64::from(KEYS)));
    group.bench_function(format!("cached_query_redis_hit{suffix}"), |b| {
        b.to_async(rt).iter_custom(|iters| {
            calls += iters;
            ours(cache, iters)
        });
    });
    if urls.len() > 1 {
        let client = redis::cluster::ClusterClient::new(urls).unwrap();
        let connection = rt.block_on(client.get_async_connection()).unwrap();
        rt.block_on(raw(connection.clone(), u64::from(KEYS)));
        group.bench_function(format!("raw_redis_get{suffix}"), |b| {
            b.to_async(rt)
                .iter_custom(|iters| raw(connection.clone(), iters));
        });
    } else {
        let client = redis::Client::open(urls[0].as_str()).unwrap();
        let connection = rt
            .block_on(redis::aio::ConnectionManager::new(client))
            .unwrap();
        rt.block_on(raw(connection.clone(), u64::from(KEYS)));
        group.bench_function(format!("raw_redis_get{suffix}"), |b| {
            b.to_async(rt)
                .iter_custom(|iters| raw(connection.clone(), iters));
        });
    }
    assert_eq!(
        shared_hits(&cache) - before,
        calls,
        "every measured call was a Redis hit (memory stayed cold)"
    );

    let mut extra = String::new();
    // Commands per hit: 1,000 hits, one at a time.
    let hits = 1_000u64;
    let before = servers.command_calls();
    rt.block_on(async {
        for n in 0..hits {
            std::hint::black_box(cache.scope(blob((n % u64::from(KEYS)) as u32)).await);
        }
    });
    for (command, n) in delta(&before, &servers.command_calls()) {
        extra.push_str(&format!(
            "{name}\thit\t{command}\t{}\n",
            n as f64 / hits as f64
        ));
    }

    // An invalidation with three instances subscribed (the one that filled Redis, the measured
    // one, and another). The first loads its scripts; the second is counted.
    let other = instance(servers);
    rt.block_on(subscribed(&[&cache, &other]));
    rt.block_on(cache.scope(cached_query::invalidate_tag("blob:0")))
        .expect("confirmed by every instance");
    let before = servers.command_calls();
    rt.block_on(cache.scope(cached_query::invalidate_tag("blob:1")))
        .expect("confirmed by every instance");
    for (command, n) in delta(&before, &servers.command_calls()) {
        extra.push_str(&format!("{name}\tinvalidation\t{command}\t{n}\n"));
    }

    // What Redis spent per call of each command over the whole run (µs).
    let usec = servers.command_stats("usec=");
    let counted = servers.command_stats("calls=");
    for (command, total) in usec {
        if let Some(calls) = counted.get(&command).filter(|c| **c > 0.0) {
            extra.push_str(&format!(
                "{name}\tusec_per_call\t{command}\t{:.3}\n",
                total / calls
            ));
        }
    }
    extra
}

fn main() {
    if !servers::available() {
        eprintln!("shared_hit: no redis-server on PATH, skipped");
        return;
    }
    let single = RedisServer::start_single();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("shared_hit");
    group.throughput(Throughput::Elements(1));
    let mut extra = topology("single", &single, &rt, &mut group);
    drop(single);
    // The cluster only in a full run: `cargo test --all-targets` smoke-tests one server.
    if support::full_run() {
        let cluster = RedisServer::start_cluster();
        extra.push_str(&topology("cluster", &cluster, &rt, &mut group));
    }
    group.finish();
    eprint!("{extra}");
    if support::full_run() {
        support::write_extra("shared_hit.tsv", &extra);
    }
}
