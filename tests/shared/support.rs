//! The Redis of the test's own, on free loopback ports, stopped when dropped: one server, or a
//! 3-master Redis Cluster when `CACHED_QUERY_TEST_TOPOLOGY=cluster` (so that the same suite runs
//! against both); instances configured against it, and what they report.

pub use crate::servers::{Direct, RedisServer, on_cluster};
use cached_query::{Cache, Config, RedisConfig, SharedStats};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::{Duration, Instant};

impl RedisServer {
    /// A configuration for this Redis, whichever its topology.
    pub fn config(&self) -> RedisConfig {
        if self.is_cluster() {
            RedisConfig::cluster(self.urls())
        } else {
            RedisConfig::new(self.url())
        }
    }
}

/// Polls `condition` every millisecond for at most 5 s (no fixed sleeps: it returns as soon as
/// the background work it waits for is done).
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Two instances of one application (same namespace) sharing one Redis.
pub fn pair(server: &RedisServer, namespace: &str) -> (Cache, Cache) {
    let make = || {
        Cache::new(
            Config::new().namespace(namespace).redis(
                server
                    .config()
                    .operation_timeout(Duration::from_millis(200)),
            ),
        )
    };
    (make(), make())
}

/// The configuration of an instance whose assertions are about what is shared, not about the
/// time budget: a loaded machine (CI shares its cores) can take longer than the default 100 ms
/// to answer, which would turn an expected shared hit into a counted timeout and a miss.
pub fn patient(server: &RedisServer) -> RedisConfig {
    server.config().operation_timeout(Duration::from_secs(2))
}

pub fn shared(cache: &Cache) -> SharedStats {
    futures_lite_block(cache.scope(async { cached_query::stats().shared.unwrap() }))
}

/// `Cache::scope` is async; stats are synchronous to read: poll it once (it never waits).
pub fn futures_lite_block<F: std::future::Future>(future: F) -> F::Output {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("stats never wait"),
    }
}

pub async fn ready(caches: &[&Cache]) {
    for cache in caches {
        eventually("subscribed to invalidations", || shared(cache).subscribed).await;
    }
}

/// Runs of a cached test function, counted per id: the tests of a file run at once, and each
/// counts only the ids it uses.
pub struct RunsPerId([AtomicU32; 64]);

impl RunsPerId {
    pub const fn new() -> RunsPerId {
        RunsPerId([const { AtomicU32::new(0) }; 64])
    }

    /// Counts one run for `id` (below 64).
    pub fn ran(&self, id: u32) {
        self.0[id as usize].fetch_add(1, SeqCst);
    }

    /// The runs for the ids in `ids`.
    pub fn of(&self, ids: std::ops::Range<u32>) -> u32 {
        ids.map(|id| self.0[id as usize].load(SeqCst)).sum()
    }
}
