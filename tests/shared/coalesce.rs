//! Cross-instance single-flight (issue 15) across real processes: this test binary spawns
//! itself four times (the `child_process` test, which does nothing unless it is given its
//! orders in the environment), each child an instance making 250 concurrent calls of one cold
//! key. Body runs are counted in a file every process appends to.

use crate::support::RedisServer;
use cached_query::{Cache, Config, RedisConfig, cached_query};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A child's orders: `dir|namespace|index|url,url,...`.
const ORDERS: &str = "CACHED_QUERY_COALESCE_CHILD";
const PROCESSES: usize = 4;
const CALLS: usize = 250;
/// The lease of the holder that dies: what a waiter waits at most, once it is dead.
const HOLDER_LEASE: Duration = Duration::from_secs(1);

/// The run's directory (set in a child).
static DIR: OnceLock<PathBuf> = OnceLock::new();

/// Polls until `path` exists, for at most 30 s.
fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(Instant::now() < deadline, "never appeared: {path:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The expensive query: counted in `runs` (one line per run, appended by any process), and
/// slow enough that every process is waiting when it ends (it waits until all four have
/// started their calls).
#[cached_query(ttl = "10m")]
async fn report(id: u32) -> String {
    let dir = DIR.get().expect("a child has its directory");
    let mut runs = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("runs"))
        .unwrap();
    writeln!(runs, "{}", std::process::id()).unwrap();
    let dir = dir.clone();
    tokio::task::spawn_blocking(move || {
        for i in 0..PROCESSES {
            wait_for(&dir.join(format!("started-{i}")));
        }
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    format!("report {id}")
}

#[cached_query(ttl = "10m")]
async fn warm_up(id: u32) -> u32 {
    id
}

/// A query whose first instance (a child told to `hang`) dies while computing it.
static HANG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static SLOW_RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

#[cached_query(ttl = "10m")]
async fn slow_report(id: u32) -> String {
    SLOW_RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if HANG.load(std::sync::atomic::Ordering::SeqCst) {
        let dir = DIR.get().expect("a child has its directory");
        std::fs::write(dir.join("holding"), "").unwrap();
        std::future::pending::<()>().await;
    }
    format!("slow report {id}")
}

fn instance(namespace: &str, urls: &[&str], lease: Duration) -> Cache {
    let redis = if urls.len() > 1 {
        RedisConfig::cluster(urls.iter().copied())
    } else {
        RedisConfig::new(urls[0])
    };
    Cache::new(
        Config::new().namespace(namespace).redis(
            redis
                .operation_timeout(Duration::from_secs(2))
                .coalesce_across_instances(lease),
        ),
    )
}

/// The child: one instance, 250 concurrent calls once every process is ready; what its tier
/// counted is written to `stats-{index}`. Index `hang`: it takes the lease of `slow_report(8)`
/// and never finishes computing it (until it is killed).
/// This test binary again, running only [`child_process`] with its orders: the shared
/// directory, the namespace, the child's role (its index, or `hang`), the Redis URLs.
fn spawn_child(dir: &std::path::Path, namespace: &str, role: &str, urls: &[String]) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "coalesce::child_process",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(
            ORDERS,
            format!("{}|{namespace}|{role}|{}", dir.display(), urls.join(",")),
        )
        .stdout(Stdio::null());
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_process() {
    let Ok(orders) = std::env::var(ORDERS) else {
        return; // run as a test of its own: nothing to do
    };
    let [dir, namespace, index, urls]: [&str; 4] =
        orders.split('|').collect::<Vec<_>>().try_into().unwrap();
    let dir = DIR.get_or_init(|| PathBuf::from(dir));
    let urls: Vec<&str> = urls.split(',').collect();
    if index == "hang" {
        HANG.store(true, std::sync::atomic::Ordering::SeqCst);
        let cache = instance(namespace, &urls, HOLDER_LEASE);
        crate::support::ready(&[&cache]).await;
        cache.scope(slow_report(8)).await;
        unreachable!("the body never ends");
    }
    let cache = instance(namespace, &urls, Duration::from_secs(2));
    if !dir.join("redis-down").exists() {
        crate::support::ready(&[&cache]).await;
        // The connection (and on a cluster its slot map and scripts) made before the race.
        cache.scope(warm_up(u32::from(index.as_bytes()[0]))).await;
    }
    std::fs::write(dir.join(format!("ready-{index}")), "").unwrap();
    let go = dir.join("go");
    tokio::task::spawn_blocking(move || wait_for(&go))
        .await
        .unwrap();
    std::fs::write(dir.join(format!("started-{index}")), "").unwrap();
    let calls: Vec<_> = (0..CALLS)
        .map(|_| tokio::spawn(async move { cache.scope(report(7)).await }))
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap(), "report 7");
    }
    let stats = crate::support::shared(&cache);
    std::fs::write(
        dir.join(format!("stats-{index}")),
        stats.remote_coalesced.to_string(),
    )
    .unwrap();
    eprintln!("child {index}: {stats:?}");
}

/// Four children against `urls`; how many times the body ran in total, and how many calls
/// the children counted as answered by another instance's computation.
fn four_processes(urls: &[String], namespace: &str, redis_down: bool) -> (usize, u64) {
    let dir = std::env::temp_dir().join(format!(
        "cached-query-coalesce-{}-{namespace}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    if redis_down {
        std::fs::write(dir.join("redis-down"), "").unwrap();
    }
    let children: Vec<_> = (0..PROCESSES)
        .map(|index| {
            spawn_child(&dir, namespace, &index.to_string(), urls)
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for index in 0..PROCESSES {
        wait_for(&dir.join(format!("ready-{index}")));
    }
    std::fs::write(dir.join("go"), "").unwrap();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&output.stderr);
        // What each child's tier counted, for whoever reads a failure.
        for line in said.lines().filter(|l| l.starts_with("child ")) {
            eprintln!("{line}");
        }
        assert!(output.status.success(), "a child failed: {said}");
    }
    let runs = std::fs::read_to_string(dir.join("runs"))
        .unwrap()
        .lines()
        .count();
    let coalesced = (0..PROCESSES)
        .map(|index| {
            std::fs::read_to_string(dir.join(format!("stats-{index}")))
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    let _ = std::fs::remove_dir_all(&dir);
    (runs, coalesced)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_run_a_cold_key_once_with_redis_up() {
    let server = RedisServer::start();
    let urls = server.urls();
    let (runs, coalesced) =
        tokio::task::spawn_blocking(move || four_processes(&urls, "coalesce-up", false))
            .await
            .unwrap();
    eprintln!("{PROCESSES} processes x {CALLS} calls: {runs} body run(s), {coalesced} coalesced");
    assert_eq!(runs, 1, "one body run across the four processes");
    assert!(
        coalesced >= 1,
        "the other processes waited for it and were counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_each_run_a_cold_key_at_most_once_with_redis_down() {
    let mut server = RedisServer::start();
    let urls = server.urls();
    server.kill();
    let (runs, coalesced) =
        tokio::task::spawn_blocking(move || four_processes(&urls, "coalesce-down", true))
            .await
            .unwrap();
    eprintln!("Redis down: {runs} body run(s), {coalesced} coalesced");
    assert!((1..=PROCESSES).contains(&runs), "{runs} runs");
    assert_eq!(coalesced, 0);
}

/// The instance computing a key dies (its process killed): its lease is no longer renewed,
/// runs out, and the waiting instance takes the key over and computes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_takes_over_when_the_lease_holder_dies() {
    let server = RedisServer::start();
    let urls = server.urls();
    let dir = std::env::temp_dir().join(format!("cached-query-takeover-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut holder = spawn_child(&dir, "takeover", "hang", &urls)
        .spawn()
        .unwrap();
    let holding = dir.join("holding");
    tokio::task::spawn_blocking(move || wait_for(&holding))
        .await
        .unwrap();
    holder.kill().unwrap();
    holder.wait().unwrap();

    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let waiter = instance("takeover", &urls, HOLDER_LEASE);
    crate::support::ready(&[&waiter]).await;
    let leases = || -> Vec<String> {
        redis::cmd("KEYS")
            .arg("takeover:l:*")
            .query(&mut server.client())
            .unwrap()
    };
    assert_eq!(leases().len(), 1, "the dead holder's lease is still there");
    assert_eq!(waiter.scope(slow_report(8)).await, "slow report 8");
    crate::support::eventually("released once the value is written", || leases().is_empty()).await;
    assert_eq!(
        SLOW_RUNS.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "computed here once the dead holder's lease ran out"
    );
    let stats = crate::support::shared(&waiter);
    assert_eq!(stats.remote_coalesced, 0, "{stats:?}");
    assert_eq!(stats.errors + stats.timeouts, 0, "{stats:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
