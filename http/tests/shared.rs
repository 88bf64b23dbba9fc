//! Responses through the shared tier, against a real `redis-server` of the test's own: a
//! response computed behind one instance is served by another without calling its handler
//! (same body, same ETag, a `304` for it), and an invalidation in one reaches the other.
#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: failing loudly is the point

mod support;

use axum::Router;
use axum::routing::get;
use cached_query::{Cache, Config, RedisConfig};
use cached_query_http::{ResponseCacheLayer, Route};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;
use support::{get as fetch, serve, until};

/// A `redis-server` on a free loopback port, killed when dropped.
struct RedisServer {
    port: u16,
    child: Child,
}

impl RedisServer {
    fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH: run `bash scripts/test.sh`, which installs it");
        // Owned from here on: dropped (killed and waited for) even if it never listens.
        let server = RedisServer { port, child };
        for _ in 0..2_000 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("redis-server did not start");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One "machine": an instance on the shared Redis and a server whose handler counts its runs.
async fn machine(redis: &RedisServer, calls: &Arc<AtomicUsize>) -> (SocketAddr, Cache) {
    let cache = Cache::new(
        Config::new().namespace("http-shared").redis(
            // Generous: the assertions are about what is shared, not the time budget.
            RedisConfig::new(format!("redis://127.0.0.1:{}/", redis.port))
                .operation_timeout(Duration::from_secs(2)),
        ),
    );
    let counted = Arc::clone(calls);
    let app = Router::new()
        .route(
            "/users/{id}",
            get(move || {
                let calls = Arc::clone(&counted);
                async move { format!("user 42, run {}", calls.fetch_add(1, SeqCst)) }
            }),
        )
        .layer(
            ResponseCacheLayer::new()
                .cache(cache)
                .route(Route::new("/users/{id}").tags(["user:{id}"])),
        );
    (serve(app).await, cache)
}

fn shared_stat(cache: &Cache, read: impl Fn(&cached_query::SharedStats) -> bool) -> bool {
    cache.stats().shared.as_ref().is_some_and(read)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_computed_behind_one_instance_is_served_by_another() {
    let redis = RedisServer::start();
    let calls = Arc::new(AtomicUsize::new(0));
    let (first, cache_a) = machine(&redis, &calls).await;
    let (second, cache_b) = machine(&redis, &calls).await;
    for cache in [&cache_a, &cache_b] {
        until("subscribed to invalidations", || {
            shared_stat(cache, |s| s.subscribed)
        })
        .await;
    }

    let computed = fetch(first, "/users/42", &[]).await;
    assert_eq!(computed.text(), "user 42, run 0");
    until("the response written to Redis", || {
        shared_stat(&cache_a, |s| s.writes >= 1)
    })
    .await;

    let shared = fetch(second, "/users/42", &[]).await;
    assert_eq!(shared.body, computed.body);
    assert_eq!(shared.header("etag"), computed.header("etag"));
    assert_eq!(
        calls.load(SeqCst),
        1,
        "the second instance's handler did not run"
    );
    let row = cache_b
        .stats()
        .function("http GET /users/{id}")
        .map(|r| r.counts);
    assert_eq!(row.map(|c| c.remote_hits), Some(1));
    let etag = computed.header("etag").expect("an ETag");
    let revalidated = fetch(second, "/users/42", &[("if-none-match", etag)]).await;
    assert_eq!(revalidated.status, 304);

    // An invalidation in the first instance reaches the second one's copy.
    cache_a
        .invalidate_tag("user:42")
        .await
        .expect("confirmed by every instance");
    let recomputed = fetch(second, "/users/42", &[]).await;
    assert_eq!(recomputed.text(), "user 42, run 1");
    assert_ne!(recomputed.header("etag"), computed.header("etag"));
}
