//! Whether the shared tier's write-behind keeps up with a miss-heavy load (issue 11): two cache
//! instances in this process (each its own tier, connection and writer task, as two services
//! would have), against a `redis-server` this benchmark starts on a free loopback port. Every
//! call has a new argument, so each is a miss: one read round trip, the body, one queued write.
//!
//! Three loads:
//! * **paced**: misses offered at a fixed rate (5,000/s per instance, both instances at once)
//!   for three seconds: do they all reach Redis (0 dropped)?
//! * **flat out**: as many misses as 32 callers per instance can make, both instances at once:
//!   how many writes per second go through, and how many are dropped when the queue (1,024,
//!   the default) is full?
//! * **alone**: the same on one instance, the other idle (the two compete for 2 cores with
//!   the `redis-server`).
//!
//! Writes per second count from the first call until the instance's queue has drained (every
//! write applied or dropped). Run by `scripts/bench.sh` (`cargo bench --bench shared_writes
//! --features redis`), which reads `$CQ_BENCH_OUT/shared_writes.tsv`. Under `cargo test
//! --all-targets` it runs a few hundred misses as a smoke test, and is skipped (with a note)
//! where no `redis-server` is installed.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // a bench

use cached_query::{Cache, Config, RedisConfig, SharedStats, cached_query};
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

const INSTANCES: usize = 2;
/// Concurrent callers per instance.
const CALLERS: u64 = 32;

/// A row as a service would cache it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    id: u64,
    name: String,
    score: u32,
}

#[cached_query(ttl = "10m", tags = ["row:{id}"])]
async fn row(id: u64) -> Row {
    Row {
        id,
        name: format!("row {id}"),
        score: (id as u32).wrapping_mul(7),
    }
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
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One load's figures for one instance.
struct Figures {
    load: &'static str,
    instance: usize,
    offered_per_s: Option<f64>,
    misses: u64,
    misses_per_s: f64,
    writes: u64,
    writes_per_s: f64,
    dropped: u64,
}

fn shared(cache: &Cache) -> SharedStats {
    cache.stats().shared.expect("a shared tier")
}

/// Ids never used before by any load: each call is a miss.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// `total` misses on `cache` from [`CALLERS`] tasks, at `rate` per second if given.
async fn load(cache: Cache, total: u64, rate: Option<f64>) {
    let started = tokio::time::Instant::now();
    let callers: Vec<_> = (0..CALLERS)
        .map(|caller| {
            tokio::spawn(async move {
                let mine = total / CALLERS + u64::from(caller < total % CALLERS);
                for n in 0..mine {
                    if let Some(rate) = rate {
                        // The n-th call of this caller is due at (n * CALLERS + caller) / rate.
                        let due = (n * CALLERS + caller) as f64 / rate;
                        tokio::time::sleep_until(started + Duration::from_secs_f64(due)).await;
                    }
                    let id = NEXT_ID.fetch_add(1, Relaxed);
                    std::hint::black_box(cache.scope(row(id)).await);
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap();
    }
}

/// Runs one load on every instance at once and waits for their queues to drain.
async fn run(label: &'static str, caches: &[Cache], total: u64, rate: Option<f64>) -> Vec<Figures> {
    let before: Vec<SharedStats> = caches.iter().map(shared).collect();
    let started = Instant::now();
    let loads: Vec<_> = caches
        .iter()
        .map(|cache| tokio::spawn(load(*cache, total, rate)))
        .collect();
    for running in loads {
        running.await.unwrap();
    }
    let called = started.elapsed();
    let mut figures = Vec::new();
    for (instance, (cache, before)) in caches.iter().zip(&before).enumerate() {
        let settled = |s: &SharedStats| {
            (s.writes - before.writes) + (s.writes_dropped - before.writes_dropped)
        };
        // Drained when every write is applied or dropped (or nothing moved for a second).
        let mut last = (settled(&shared(cache)), Instant::now());
        while last.0 < total && last.1.elapsed() < Duration::from_secs(1) {
            tokio::time::sleep(Duration::from_millis(1)).await;
            let now = settled(&shared(cache));
            if now != last.0 {
                last = (now, Instant::now());
            }
        }
        let drained = started.elapsed();
        let after = shared(cache);
        let writes = after.writes - before.writes;
        figures.push(Figures {
            load: label,
            instance,
            offered_per_s: rate,
            misses: total,
            misses_per_s: total as f64 / called.as_secs_f64(),
            writes,
            writes_per_s: writes as f64 / drained.as_secs_f64(),
            dropped: after.writes_dropped - before.writes_dropped,
        });
    }
    figures
}

fn report(figures: &[Figures]) {
    let mut tsv = String::from(
        "load\tinstance\toffered_per_s\tmisses\tmisses_per_s\twrites\twrites_per_s\tdropped\n",
    );
    for f in figures {
        let offered = f.offered_per_s.map_or("-".into(), |r| format!("{r:.0}"));
        println!(
            "{:<9} instance {}: offered {offered:>6}/s  {:>6} misses at {:>7.0}/s  {:>6} writes at {:>7.0}/s  {} dropped",
            f.load, f.instance, f.misses, f.misses_per_s, f.writes, f.writes_per_s, f.dropped
        );
        tsv.push_str(&format!(
            "{}\t{}\t{offered}\t{}\t{:.0}\t{}\t{:.0}\t{}\n",
            f.load, f.instance, f.misses, f.misses_per_s, f.writes, f.writes_per_s, f.dropped
        ));
    }
    if let Ok(dir) = std::env::var("CQ_BENCH_OUT") {
        let path = std::path::Path::new(&dir).join("shared_writes.tsv");
        let mut file = std::fs::File::create(&path).expect("CQ_BENCH_OUT is writable");
        file.write_all(tsv.as_bytes()).unwrap();
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let Some(server) = Server::start() else {
        eprintln!("shared_writes: skipped, no redis-server on PATH (scripts/test.sh installs one)");
        return;
    };
    let url = format!("redis://127.0.0.1:{}/", server.port);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let figures = runtime.block_on(async {
        let caches: Vec<Cache> = (0..INSTANCES)
            .map(|_| {
                Cache::new(
                    Config::new()
                        .namespace("bench-writes")
                        .redis(RedisConfig::new(url.as_str())),
                )
            })
            .collect();
        for cache in &caches {
            while !shared(cache).subscribed {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        if full {
            let mut figures = run("paced", &caches, 15_000, Some(5_000.0)).await;
            figures.extend(run("flat_out", &caches, 30_000, None).await);
            figures.extend(run("alone", &caches[..1], 30_000, None).await);
            figures
        } else {
            // Fewer writes than the queue holds: none may be dropped, however slow the build.
            let figures = run("paced", &caches, 300, Some(1_000.0)).await;
            for f in &figures {
                assert_eq!((f.writes, f.dropped), (300, 0), "instance {}", f.instance);
            }
            figures
        }
    });
    report(&figures);
    drop(server);
}
