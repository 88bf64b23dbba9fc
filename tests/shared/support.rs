//! A `redis-server` of the test's own, on a free loopback port, stopped when dropped; instances
//! configured against it, and what they report.

use cached_query::{Cache, Config, RedisConfig, SharedStats};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        let mut server = RedisServer { port, child: None };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH: run `bash scripts/test.sh`, which installs it");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (as a crash would).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Freezes the process: connections stay open, nothing answers.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// A plain client connection, for poking at the stored data.
    pub fn client(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .expect("a direct connection")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
        }
        self.kill();
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
    let make =
        || {
            Cache::new(Config::new().namespace(namespace).redis(
                RedisConfig::new(server.url()).operation_timeout(Duration::from_millis(200)),
            ))
        };
    (make(), make())
}

/// The configuration of an instance whose assertions are about what is shared, not about the
/// time budget: a loaded machine (CI shares its cores) can take longer than the default 100 ms
/// to answer, which would turn an expected shared hit into a counted timeout and a miss.
pub fn patient(url: &str) -> RedisConfig {
    RedisConfig::new(url).operation_timeout(Duration::from_secs(2))
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
