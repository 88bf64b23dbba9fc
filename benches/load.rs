//! The shared tier under load (issue 15): K instance *processes* (this binary, spawned again as
//! children) share one Redis, then a 3-master Redis Cluster, and run a mixed workload, every
//! read checked against a source of truth.
//!
//! * **The database** is a `redis-server` of its own (not the cache's): row `id`'s version is
//!   `row:{id}`. A cached read (`row(id)`, tagged `row:{id}`) returns the version the body
//!   read there.
//! * **Reads** draw rows from a Zipf distribution (s = 1.0 over 10,000 rows); **writes** (one
//!   operation in 20) bump a row's version in the database, then `invalidate_tag("row:{id}")`;
//!   when that returns `Ok`, the version is recorded as confirmed (`confirmed:{id}`, a max).
//! * **Stale**: a read returning a version older than the one confirmed when it started. Must
//!   be 0.
//!
//! Each child runs its share of the operations from 8 tasks, bounded by a count and a time
//! limit, and reports throughput, latency samples of its cached calls (ns) and its counters; the
//! parent adds them up: throughput, p50/p99, hit ratio by tier (memory, Redis, computed),
//! stale reads. Run by `scripts/bench.sh` (`cargo bench --features redis --bench load`), whose
//! table goes to BENCHMARKS.md via `scripts/bench_load.py`; under `cargo test --all-targets`, a
//! smoke run on one Redis. Skipped (with a note) without `redis-server`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // a bench

mod support;

use cached_query::{Cache, Config, RedisConfig, cached_query};
use redis::aio::ConnectionManager;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use support::servers::{self, RedisServer};

/// A child's orders: `dir|index|ops|database url|cache url,url,...`.
const ORDERS: &str = "CQ_LOAD_CHILD";
const ROWS: u32 = 10_000;
const TASKS: u64 = 8;
/// One operation in this many is a write.
const WRITE_EVERY: u64 = 20;
/// The most a child runs, whatever its count.
const TIME_LIMIT: Duration = Duration::from_secs(120);

#[cached_query(ttl = "10m", tags = ["row:{id}"], skip(db))]
async fn row(db: &ConnectionManager, id: u32) -> Result<u64, String> {
    let version: Option<u64> = redis::cmd("GET")
        .arg(format!("row:{id}"))
        .query_async(&mut db.clone())
        .await
        .map_err(|e| e.to_string())?;
    Ok(version.unwrap_or(0))
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Zipf (s = 1) over [`ROWS`]: the cumulative weights, searched with a uniform draw.
fn zipf_table() -> Vec<f64> {
    let mut total = 0.0;
    (1..=ROWS)
        .map(|rank| {
            total += 1.0 / f64::from(rank);
            total
        })
        .collect()
}

fn draw(table: &[f64], state: &mut u64) -> u32 {
    let u = (splitmix(state) >> 11) as f64 / (1u64 << 53) as f64 * table[table.len() - 1];
    table.partition_point(|&c| c < u) as u32
}

/// What one child counted.
#[derive(Default)]
struct Counted {
    reads: AtomicU64,
    writes: AtomicU64,
    stale: AtomicU64,
    unconfirmed: AtomicU64,
    failed_calls: AtomicU64,
}

/// Sets `confirmed:{id}` to `version` if that is newer.
const CONFIRM: &str = r"
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
";

async fn one_task(
    cache: Cache,
    db: ConnectionManager,
    table: Arc<Vec<f64>>,
    ops: u64,
    seed: u64,
    counted: Arc<Counted>,
    started: Instant,
) -> Vec<u64> {
    let confirm = redis::Script::new(CONFIRM);
    let mut state = seed;
    let mut latencies = Vec::with_capacity(ops as usize);
    let mut db_conn = db.clone();
    for _ in 0..ops {
        if started.elapsed() > TIME_LIMIT {
            break;
        }
        let id = draw(&table, &mut state);
        if splitmix(&mut state).is_multiple_of(WRITE_EVERY) {
            let version: u64 = redis::cmd("INCR")
                .arg(format!("row:{id}"))
                .query_async(&mut db_conn)
                .await
                .unwrap();
            let tag = format!("row:{id}");
            match cache.scope(cached_query::invalidate_tag(&tag)).await {
                Ok(()) => {
                    let _: i64 = confirm
                        .key(format!("confirmed:{id}"))
                        .arg(version)
                        .invoke_async(&mut db_conn)
                        .await
                        .unwrap();
                }
                Err(_) => {
                    counted.unconfirmed.fetch_add(1, Relaxed);
                }
            }
            counted.writes.fetch_add(1, Relaxed);
        } else {
            let floor: Option<u64> = redis::cmd("GET")
                .arg(format!("confirmed:{id}"))
                .query_async(&mut db_conn)
                .await
                .unwrap();
            let call = Instant::now();
            let read = cache.scope(row(&db, id)).await;
            latencies.push(u64::try_from(call.elapsed().as_nanos()).unwrap_or(u64::MAX));
            match read {
                Ok(version) if version < floor.unwrap_or(0) => {
                    counted.stale.fetch_add(1, Relaxed);
                }
                Ok(_) => {}
                Err(_) => {
                    counted.failed_calls.fetch_add(1, Relaxed);
                }
            }
            counted.reads.fetch_add(1, Relaxed);
        }
    }
    latencies
}

fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(Instant::now() < deadline, "never appeared: {path:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A child: one instance, its share of the operations once every child is ready.
fn child(orders: &str) {
    let [dir, index, ops, db_url, cache_urls]: [&str; 5] =
        orders.split('|').collect::<Vec<_>>().try_into().unwrap();
    let dir = PathBuf::from(dir);
    let ops: u64 = ops.parse().unwrap();
    let urls: Vec<&str> = cache_urls.split(',').collect();
    let redis = if urls.len() > 1 {
        RedisConfig::cluster(urls.iter().copied())
    } else {
        RedisConfig::new(urls[0])
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cache = Cache::new(
        Config::new()
            .namespace("load")
            .redis(redis.operation_timeout(Duration::from_millis(500))),
    );
    let db = rt
        .block_on(ConnectionManager::new(redis::Client::open(db_url).unwrap()))
        .unwrap();
    rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !cache.stats().shared.unwrap().subscribed {
            assert!(Instant::now() < deadline, "never subscribed");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    std::fs::write(dir.join(format!("ready-{index}")), "").unwrap();
    wait_for(&dir.join("go"));
    let table = Arc::new(zipf_table());
    let counted = Arc::new(Counted::default());
    let started = Instant::now();
    let index_seed: u64 = index.parse().unwrap();
    let latencies: Vec<u64> = rt.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| {
                tokio::spawn(one_task(
                    cache,
                    db.clone(),
                    Arc::clone(&table),
                    ops / TASKS,
                    (index_seed << 8 | task).wrapping_mul(0x2545_F491_4F6C_DD1D),
                    Arc::clone(&counted),
                    started,
                ))
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all
    });
    let elapsed = started.elapsed();
    let stats = cache.stats();
    let counts = stats.function("row").map(|f| f.counts).unwrap_or_default();
    let report = format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
        elapsed.as_secs_f64(),
        counted.reads.load(Relaxed),
        counted.writes.load(Relaxed),
        counted.stale.load(Relaxed),
        counted.unconfirmed.load(Relaxed),
        counted.failed_calls.load(Relaxed),
        counts.hits,
        counts.remote_hits,
        counts.misses - counts.remote_hits - counts.coalesced,
    );
    let samples: String = latencies.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join(format!("latencies-{index}")), samples).unwrap();
    std::fs::write(dir.join(format!("result-{index}")), report).unwrap();
}

/// One topology's figures.
struct Figures {
    topology: &'static str,
    processes: usize,
    ops: u64,
    ops_per_s: f64,
    p50_ns: u64,
    p99_ns: u64,
    memory: f64,
    redis: f64,
    computed: f64,
    stale: u64,
    unconfirmed: u64,
    failed: u64,
}

fn run(topology: &'static str, processes: usize, ops: u64) -> Option<Figures> {
    let root = std::env::temp_dir().join(format!("cq-load-{}-{topology}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    if !servers::available() {
        return None;
    }
    let database = RedisServer::start_single();
    let cache = if topology == "cluster" {
        RedisServer::start_cluster()
    } else {
        RedisServer::start_single()
    };
    let exe = std::env::current_exe().unwrap();
    let per_process = ops / processes as u64;
    let children: Vec<_> = (0..processes)
        .map(|index| {
            Command::new(&exe)
                .env(
                    ORDERS,
                    format!(
                        "{}|{index}|{per_process}|{}|{}",
                        work.display(),
                        database.urls()[0],
                        cache.urls().join(",")
                    ),
                )
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for index in 0..processes {
        wait_for(&work.join(format!("ready-{index}")));
    }
    let started = Instant::now();
    std::fs::write(work.join("go"), "").unwrap();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a child failed");
    }
    let wall = started.elapsed().as_secs_f64();
    let mut latencies = Vec::new();
    let mut sums = [0f64; 9];
    for index in 0..processes {
        let result = std::fs::read_to_string(work.join(format!("result-{index}"))).unwrap();
        for (sum, field) in sums.iter_mut().zip(result.trim().split('\t')) {
            *sum += field.parse::<f64>().unwrap();
        }
        let samples = std::fs::read_to_string(work.join(format!("latencies-{index}"))).unwrap();
        latencies.extend(samples.lines().map(|l| l.parse::<u64>().unwrap()));
    }
    latencies.sort_unstable();
    let quantile = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    let [
        _,
        reads,
        writes,
        stale,
        unconfirmed,
        failed,
        memory,
        redis,
        computed,
    ] = sums;
    let calls = memory + redis + computed;
    drop(cache);
    drop(database);
    let _ = std::fs::remove_dir_all(&root);
    Some(Figures {
        topology,
        processes,
        ops: (reads + writes) as u64,
        ops_per_s: (reads + writes) / wall,
        p50_ns: quantile(0.5),
        p99_ns: quantile(0.99),
        memory: memory / calls,
        redis: redis / calls,
        computed: computed / calls,
        stale: stale as u64,
        unconfirmed: unconfirmed as u64,
        failed: failed as u64,
    })
}

fn main() {
    if let Ok(orders) = std::env::var(ORDERS) {
        child(&orders);
        return;
    }
    let full = support::full_run();
    let (processes, ops) = if full { (4, 240_000) } else { (2, 2_000) };
    let topologies: &[&'static str] = if full {
        &["single", "cluster"]
    } else {
        &["single"]
    };
    let mut table = String::from(
        "topology\tprocesses\tops\tops_per_s\tp50_ns\tp99_ns\tmemory\tredis\tcomputed\tstale\tunconfirmed\tfailed\n",
    );
    for &topology in topologies {
        let Some(f) = run(topology, processes, ops) else {
            eprintln!("load: no redis-server on PATH, skipped");
            return;
        };
        let line = format!(
            "{}\t{}\t{}\t{:.0}\t{}\t{}\t{:.4}\t{:.4}\t{:.4}\t{}\t{}\t{}\n",
            f.topology,
            f.processes,
            f.ops,
            f.ops_per_s,
            f.p50_ns,
            f.p99_ns,
            f.memory,
            f.redis,
            f.computed,
            f.stale,
            f.unconfirmed,
            f.failed
        );
        eprint!("{line}");
        table.push_str(&line);
        // Written before the checks below: a run that finds stale reads still reports them.
        if full {
            support::write_extra("load.tsv", &table);
        }
        assert_eq!(f.stale, 0, "{topology}: stale reads");
        assert_eq!(f.failed, 0, "{topology}: failed calls");
    }
}
