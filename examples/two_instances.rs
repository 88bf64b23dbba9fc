//! Two instances of one application sharing one Redis: one caches, the other hits, and an
//! invalidation on one is seen by the other.
//!
//! ```sh
//! cargo run --example two_instances --features redis
//! ```
//!
//! It uses `CACHED_QUERY_REDIS_URL` if set; otherwise it starts a `redis-server` of its own on a
//! free loopback port (install one with `apt-get install redis-server`, or `brew install redis`).

use cached_query::{Cache, Config, RedisConfig, SharedStats, cached_query};
use serde::{Deserialize, Serialize};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Product {
    sku: u32,
    price_cents: u64,
}

static PRICE: AtomicU32 = AtomicU32::new(1999);
static QUERIES: AtomicU32 = AtomicU32::new(0);

#[cached_query(ttl = "10m", tags = ["product:{sku}"])]
async fn product(sku: u32) -> Result<Product, String> {
    QUERIES.fetch_add(1, SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await; // the "database"
    Ok(Product {
        sku,
        price_cents: u64::from(PRICE.load(SeqCst)),
    })
}

/// A redis-server of our own, killed when dropped.
struct OwnServer(Child);

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn redis_url() -> Result<(String, Option<OwnServer>), String> {
    if let Ok(url) = std::env::var("CACHED_QUERY_REDIS_URL") {
        return Ok((url, None));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .stdout(Stdio::null())
        .spawn()
        .map_err(|_| {
            "no redis-server found. Install one (`apt-get install redis-server`, \
             `brew install redis`) or set CACHED_QUERY_REDIS_URL=redis://host:port/"
                .to_string()
        })?;
    let server = OwnServer(child);
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("redis-server did not start".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok((format!("redis://127.0.0.1:{port}/"), Some(server)))
}

async fn timed(label: &str, instance: &Cache, sku: u32) {
    let started = Instant::now();
    let queries = QUERIES.load(SeqCst);
    let result = instance.scope(product(sku)).await;
    let source = if QUERIES.load(SeqCst) > queries {
        "database"
    } else {
        "cache"
    };
    println!(
        "{label:<46} {:>8.2} ms  from {source:<8}  {result:?}",
        started.elapsed().as_secs_f64() * 1e3
    );
}

async fn shared(instance: &Cache) -> Result<SharedStats, String> {
    instance
        .scope(async { cached_query::stats().shared })
        .await
        .ok_or_else(|| "the instance has no shared tier".to_string())
}

async fn wait_until(
    instance: &Cache,
    what: &str,
    condition: impl Fn(&SharedStats) -> bool,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition(&shared(instance).await?) {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting until {what}"));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(message) = run().await {
        eprintln!("two_instances: {message}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let (url, _own_server) = redis_url()?;
    println!("Redis at {url}\n");
    let instance = || {
        Cache::new(
            Config::new()
                .namespace("two-instances-demo")
                .redis(RedisConfig::new(&url)),
        )
    };
    let (a, b) = (instance(), instance());
    wait_until(&a, "instance a listens to invalidations", |s| s.subscribed).await?;
    wait_until(&b, "instance b listens to invalidations", |s| s.subscribed).await?;

    timed("instance a: product(7), cold", &a, 7).await;
    wait_until(&a, "a's value reached Redis", |s| s.writes >= 1).await?;
    timed("instance b: product(7), never seen before", &b, 7).await;
    timed("instance b: product(7) again (its memory)", &b, 7).await;

    PRICE.store(2499, SeqCst);
    a.scope(cached_query::invalidate_tag("product:7"))
        .await
        .map_err(|e| format!("invalidation: {e}"))?;
    println!("\ninstance a: price changed, invalidate_tag(\"product:7\") confirmed by both\n");
    timed("instance b: product(7) after a's invalidation", &b, 7).await;
    wait_until(&b, "b's new value reached Redis", |s| s.writes >= 1).await?;
    timed("instance a: product(7)", &a, 7).await;

    println!("\ndatabase queries: {}", QUERIES.load(SeqCst));
    // Function counters are per process (both instances live in this one).
    let counts = cached_query::stats()
        .function("product")
        .map(|f| f.counts)
        .unwrap_or_default();
    println!(
        "product(): {} hits in memory, {} hits in Redis, {} misses in memory",
        counts.hits, counts.remote_hits, counts.misses
    );
    for (name, cache) in [("a", &a), ("b", &b)] {
        let s = shared(cache).await?;
        println!(
            "instance {name}: {} writes to Redis, {} invalidations received, breaker {:?}, {} errors",
            s.writes, s.invalidations_received, s.breaker, s.errors
        );
    }
    Ok(())
}
