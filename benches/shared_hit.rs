//! The shared tier's own cost (issue 15), against a `redis-server` this benchmark starts on a
//! free loopback port:
//!
//! * **a Redis hit** (memory cold, Redis warm) through `#[cached_query]`, against a raw
//!   redis-rs `GET` of the same bytes on the same kind of connection (a `ConnectionManager`),
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
use criterion::{Criterion, Throughput};
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// A `redis-server` of our own, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start() -> Option<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .ok()?
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(5));
        }
        Some(server)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Calls per command so far (`INFO commandstats`).
    fn commands(&self) -> HashMap<String, u64> {
        let mut direct = redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .unwrap();
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query(&mut direct)
            .unwrap();
        info.lines()
            .filter_map(|line| {
                let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
                let calls = stats.split(',').find_map(|s| s.strip_prefix("calls="))?;
                Some((name.to_owned(), calls.parse().ok()?))
            })
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

fn instance(server: &Server) -> Cache {
    Cache::new(
        Config::new()
            .namespace("bench-hit")
            .max_capacity_bytes(1)
            .redis(RedisConfig::new(server.url()).operation_timeout(Duration::from_secs(2))),
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
async fn raw(connection: ConnectionManager, iters: u64) -> Duration {
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

/// Fills Redis: our values (computed once by another instance), and the same payload bytes
/// under plain keys for the raw side.
async fn warm(server: &Server) {
    let writer = instance(server);
    for id in 0..KEYS {
        writer.scope(blob(id)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while writer.stats().shared.unwrap().writes < u64::from(KEYS) {
        assert!(Instant::now() < deadline, "values never written");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut direct = redis::Client::open(server.url())
        .and_then(|c| c.get_connection())
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("bench-hit:v:*")
        .query(&mut direct)
        .unwrap();
    assert_eq!(keys.len(), KEYS as usize);
    for (id, key) in keys.iter().enumerate() {
        let payload: Vec<u8> = redis::cmd("HGET")
            .arg(key)
            .arg("p")
            .query(&mut direct)
            .unwrap();
        let _: () = redis::cmd("SET")
            .arg(format!("raw:{id}"))
            .arg(payload)
            .query(&mut direct)
            .unwrap();
    }
}

fn main() {
    let Some(server) = Server::start() else {
        eprintln!("shared_hit: no redis-server on PATH, skipped");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(warm(&server));
    let cache = instance(&server);
    let connection = rt
        .block_on(ConnectionManager::new(
            redis::Client::open(server.url()).unwrap(),
        ))
        .unwrap();
    // Both connections made, and every key once through each side.
    rt.block_on(ours(cache, u64::from(KEYS)));
    rt.block_on(raw(connection.clone(), u64::from(KEYS)));

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("shared_hit");
    group.throughput(Throughput::Elements(1));
    let before = shared_hits(&cache);
    let mut calls = 0;
    group.bench_function("cached_query_redis_hit", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            calls += iters;
            ours(cache, iters)
        });
    });
    group.bench_function("raw_redis_get", |b| {
        b.to_async(&rt)
            .iter_custom(|iters| raw(connection.clone(), iters));
    });
    group.finish();
    assert_eq!(
        shared_hits(&cache) - before,
        calls,
        "every measured call was a Redis hit (memory stayed cold)"
    );

    let mut extra = String::new();
    // Commands per hit: 1,000 hits, one at a time.
    let hits = 1_000u64;
    let before = server.commands();
    rt.block_on(async {
        for n in 0..hits {
            std::hint::black_box(cache.scope(blob((n % u64::from(KEYS)) as u32)).await);
        }
    });
    let ran = delta(&before, &server.commands());
    for (command, n) in &ran {
        extra.push_str(&format!("hit\t{command}\t{}\n", *n as f64 / hits as f64));
    }

    // An invalidation with three instances subscribed (the one that filled Redis, the measured
    // one, and another).
    let other = instance(&server);
    rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(10);
        for cache in [&cache, &other] {
            while !cache.stats().shared.unwrap().subscribed {
                assert!(Instant::now() < deadline, "never subscribed");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    });
    // The first invalidation loads its script; the second is counted.
    rt.block_on(cache.scope(cached_query::invalidate_tag("blob:0")))
        .expect("confirmed by every instance");
    let before = server.commands();
    rt.block_on(cache.scope(cached_query::invalidate_tag("blob:1")))
        .expect("confirmed by every instance");
    for (command, n) in delta(&before, &server.commands()) {
        extra.push_str(&format!("invalidation\t{command}\t{n}\n"));
    }
    // What Redis spent per call of each command over the whole run (µs).
    let mut direct = redis::Client::open(server.url())
        .and_then(|c| c.get_connection())
        .unwrap();
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut direct)
        .unwrap();
    for line in info.lines() {
        let Some((name, stats)) = line
            .strip_prefix("cmdstat_")
            .and_then(|l| l.split_once(':'))
        else {
            continue;
        };
        if let Some(usec) = stats
            .split(',')
            .find_map(|s| s.strip_prefix("usec_per_call="))
        {
            extra.push_str(&format!("usec_per_call\t{name}\t{usec}\n"));
        }
    }
    eprint!("{extra}");
    if support::full_run() {
        support::write_extra("shared_hit.tsv", &extra);
    }
}
