//! The fault suite (issue 11): a workload of reads and writes on two instances sharing one
//! Redis, checked against a source of truth, while Redis is frozen, killed and restarted,
//! flushed, or vandalised with foreign data.
//!
//! The source of truth is a counter-versioned database: a write bumps a row's version, then
//! invalidates the row's tag through one of the instances. A read is **stale** if it returns a
//! version older than one whose invalidation had returned `Ok` before the read started. Every
//! call must succeed, whatever Redis does. While Redis is unreachable an instance may serve what
//! it holds (the documented window: another instance's invalidation cannot reach it); once the
//! outage is over (every instance subscribed again, nothing pending), every write made during
//! it must show, and no read may be stale.

use crate::support::{RedisServer, eventually, shared};
use cached_query::{Cache, Config, cached_query};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Duration;

const ROWS: u32 = 24;
const TASKS: u64 = 4;

/// The database every instance reads, and what has been confirmed.
struct World {
    versions: Vec<AtomicU64>,
    /// Per row, the newest version whose invalidation returned `Ok`: no read started later may
    /// return an older one.
    confirmed: Vec<AtomicU64>,
    reads: AtomicU64,
    stale: AtomicU64,
    unconfirmed_writes: AtomicU64,
}

impl World {
    fn new() -> World {
        let zeros = || (0..ROWS).map(|_| AtomicU64::new(1)).collect();
        World {
            versions: zeros(),
            confirmed: zeros(),
            reads: AtomicU64::new(0),
            stale: AtomicU64::new(0),
            unconfirmed_writes: AtomicU64::new(0),
        }
    }

    /// After an outage: every write made so far must show from now on.
    fn confirm_everything(&self) {
        for (version, confirmed) in self.versions.iter().zip(&self.confirmed) {
            confirmed.fetch_max(version.load(SeqCst), SeqCst);
        }
    }
}

#[cached_query(ttl = "10m", tags = ["row:{id}"], skip(world))]
async fn row(world: &World, id: u32) -> Result<u64, String> {
    Ok(world.versions[id as usize].load(SeqCst))
}

/// Reads `id` on `cache`; `checked`: counts the read as stale if it is.
async fn read(world: &World, cache: &Cache, id: u32, checked: bool) {
    let floor = world.confirmed[id as usize].load(SeqCst);
    let version = cache
        .scope(row(world, id))
        .await
        .expect("every call succeeds");
    world.reads.fetch_add(1, SeqCst);
    assert!(
        version <= world.versions[id as usize].load(SeqCst),
        "row {id}: version {version} was never written"
    );
    if checked && version < floor {
        world.stale.fetch_add(1, SeqCst);
        let stats = shared(cache);
        eprintln!(
            "stale: row {id} read {version}, {floor} was confirmed (subscribed {}, {} \
             invalidations pending)",
            stats.subscribed, stats.invalidations_pending
        );
    }
}

/// Writes `id` (a new version), then invalidates its tag on `cache`.
async fn write(world: &World, cache: &Cache, id: u32) {
    let version = world.versions[id as usize].fetch_add(1, SeqCst) + 1;
    let tag = format!("row:{id}");
    match cache.scope(cached_query::invalidate_tag(&tag)).await {
        Ok(()) => {
            world.confirmed[id as usize].fetch_max(version, SeqCst);
        }
        Err(_) => {
            world.unconfirmed_writes.fetch_add(1, SeqCst);
        }
    }
}

/// `ops` operations from [`TASKS`] tasks at once, over `caches`: mostly reads, one in eight a
/// write, rows and instances drawn from a fixed sequence (reproducible).
async fn workload(world: &'static World, caches: &[Cache], ops: u64, checked: bool, seed: u64) {
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let caches = caches.to_vec();
            tokio::spawn(async move {
                let mut state = seed ^ (task + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                for _ in 0..ops / TASKS {
                    let draw = splitmix(&mut state);
                    let id = (draw % u64::from(ROWS)) as u32;
                    let cache = &caches[(draw >> 16) as usize % caches.len()];
                    if (draw >> 32).is_multiple_of(8) {
                        write(world, cache, id).await;
                    } else {
                        read(world, cache, id, checked).await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("no panic in the workload");
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The budget of the suite's instances.
const BUDGET: Duration = Duration::from_millis(250);

/// An instance of the suite: a short breaker cool-down, so that recovery is quick.
fn instance(server: &RedisServer, namespace: &str) -> Cache {
    Cache::new(
        Config::new().namespace(namespace).redis(
            server
                .config()
                .operation_timeout(BUDGET)
                .breaker(5, Duration::from_millis(100)),
        ),
    )
}

/// Two instances, subscribed, and a world whose rows they have all cached.
async fn start(server: &RedisServer, namespace: &str) -> (&'static World, Vec<Cache>) {
    let world: &'static World = Box::leak(Box::new(World::new()));
    let caches = vec![instance(server, namespace), instance(server, namespace)];
    crate::support::ready(&caches.iter().collect::<Vec<_>>()).await;
    for id in 0..ROWS {
        for cache in &caches {
            read(world, cache, id, true).await;
        }
    }
    (world, caches)
}

/// The outage is over: every instance subscribed, nothing pending.
async fn recovered(caches: &[Cache]) {
    for cache in caches {
        eventually("subscribed, nothing pending", || {
            let stats = shared(cache);
            stats.subscribed && stats.invalidations_pending == 0
        })
        .await;
    }
}

/// After recovery: every row, on every instance and on a new one, is the database's version;
/// then more of the workload, checked.
async fn check_after(
    world: &'static World,
    server: &RedisServer,
    namespace: &str,
    caches: &[Cache],
) {
    world.confirm_everything();
    let newcomer = instance(server, namespace);
    crate::support::ready(&[&newcomer]).await;
    let mut everyone = caches.to_vec();
    everyone.push(newcomer);
    for id in 0..ROWS {
        for cache in &everyone {
            read(world, cache, id, true).await;
        }
    }
    // Which phase a stale read fell in, when one does.
    eprintln!("check: every row read once on every instance");
    workload(world, &everyone, 300, true, 7).await;
}

fn report(what: &str, world: &World) {
    eprintln!(
        "{what}: {} reads, {} writes not confirmed during the fault, {} stale",
        world.reads.load(SeqCst),
        world.unconfirmed_writes.load(SeqCst),
        world.stale.load(SeqCst)
    );
    assert_eq!(world.stale.load(SeqCst), 0, "{what}: stale reads");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_then_thawed() {
    let server = RedisServer::start();
    let (world, caches) = start(&server, "fault-frozen").await;
    workload(world, &caches, 200, true, 1).await;
    server.freeze();
    workload(world, &caches, 120, false, 2).await;
    server.thaw();
    recovered(&caches).await;
    check_after(world, &server, "fault-frozen", &caches).await;
    report("frozen", world);
    assert!(
        world.unconfirmed_writes.load(SeqCst) > 0,
        "the fault was felt"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_then_restarted_empty() {
    let mut server = RedisServer::start();
    let (world, caches) = start(&server, "fault-killed").await;
    workload(world, &caches, 200, true, 3).await;
    server.kill();
    for cache in &caches {
        eventually("the subscription is lost", || !shared(cache).subscribed).await;
    }
    workload(world, &caches, 120, false, 4).await;
    server.restart();
    recovered(&caches).await;
    check_after(world, &server, "fault-killed", &caches).await;
    report("killed", world);
    assert!(
        world.unconfirmed_writes.load(SeqCst) > 0,
        "the fault was felt"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushed_while_running() {
    let server = RedisServer::start();
    let (world, caches) = start(&server, "fault-flushed").await;
    for round in 0..4 {
        let mut direct = server.client();
        let flush = tokio::task::spawn_blocking(move || {
            let _: () = redis::cmd("FLUSHALL").query(&mut direct).unwrap();
        });
        workload(world, &caches, 120, true, 10 + round).await;
        flush.await.unwrap();
    }
    check_after(world, &server, "fault-flushed", &caches).await;
    report("flushed", world);
    assert_eq!(world.unconfirmed_writes.load(SeqCst), 0, "Redis never left");
}

/// Writes something that is not ours under every key of the namespace.
fn vandalise(server: &RedisServer, namespace: &str, round: u64) -> usize {
    let mut direct = server.client();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{namespace}:*"))
        .query(&mut direct)
        .unwrap();
    for (i, key) in keys.iter().enumerate() {
        let _: () = redis::cmd("DEL").arg(key).query(&mut direct).unwrap();
        let not_ours = format!("not ours {round}");
        let mut squat = match (i as u64 + round) % 5 {
            0 => redis::cmd("SET"),
            1 => redis::cmd("LPUSH"),
            2 => redis::cmd("SADD"),
            3 => {
                // Our header, with garbage in it (and an expiry long past).
                let mut value = redis::cmd("SET");
                value.arg(key).arg(format!("cq1|1,2,3||x|k|1\n{not_ours}"));
                value
            }
            _ => {
                // A hash, as values once were.
                let mut hash = redis::cmd("HSET");
                hash.arg(key).arg("owner");
                hash
            }
        };
        match (i as u64 + round) % 5 {
            3 => {}
            4 => {
                squat.arg(not_ours);
            }
            _ => {
                squat.arg(key).arg(not_ours);
            }
        }
        let _: () = squat.query(&mut direct).unwrap();
    }
    keys.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_values_under_the_namespace() {
    let server = RedisServer::start();
    let (world, caches) = start(&server, "fault-foreign").await;
    let mut vandalised = 0;
    for round in 0..4 {
        eventually("values written", || shared(&caches[0]).writes > 0).await;
        vandalised += vandalise(&server, "fault-foreign", round);
        workload(world, &caches, 150, true, 20 + round).await;
    }
    check_after(world, &server, "fault-foreign", &caches).await;
    report("foreign", world);
    assert!(vandalised > 0);
    let (first, second) = (shared(&caches[0]), shared(&caches[1]));
    assert_eq!(first.errors + second.errors, 0, "{first:?} {second:?}");
    assert!(first.rejected + second.rejected > 0, "{first:?} {second:?}");
    assert_eq!(world.unconfirmed_writes.load(SeqCst), 0, "Redis never left");
}

/// A Redis Cluster (started here whatever the run's topology) loses one of its three masters
/// mid-workload, then gets it back empty. Every call succeeds (the workload asserts each
/// result); reads stay checked throughout: an invalidation either reached every instance
/// (`Ok`) or is counted unconfirmed, so even with a master gone no read is stale. The tier's
/// counters show the fault was felt and met within the budget (the operations that failed are
/// timeouts or errors: cut short by the tier, not waited out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_cluster_master_killed_then_restarted() {
    const NS: &str = "fault-master";
    let mut server = RedisServer::start_cluster();
    let (world, caches) = start(&server, NS).await;
    workload(world, &caches, 200, true, 30).await;
    let before: Vec<_> = caches.iter().map(shared).collect();
    server.kill_node(1);
    workload(world, &caches, 400, true, 31).await;
    let during: Vec<_> = caches.iter().map(shared).collect();
    let failed: u64 = before
        .iter()
        .zip(&during)
        .map(|(b, d)| (d.errors + d.timeouts) - (b.errors + b.timeouts))
        .sum();
    eprintln!("one master down: {failed} operations failed and were computed around");
    assert!(failed > 0, "the fault was felt: {during:?}");
    server.restart_node(1);
    recovered(&caches).await;
    check_after(world, &server, NS, &caches).await;
    report("one master killed", world);
}
