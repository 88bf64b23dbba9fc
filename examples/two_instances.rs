//! Two instances of one application sharing one Redis: one caches, the other hits, and an
//! invalidation on one is seen by the other.
//!
//! ```sh
//! cargo run --example two_instances --features redis
//! ```
//!
//! It uses the Redis at `CACHED_QUERY_REDIS_URL` if set; otherwise it starts a `redis-server` of
//! its own on a free loopback port and stops it at the end (install one with `apt-get install
//! redis-server`, or `brew install redis`). Each run uses a namespace of its own, so it can run
//! again and again against the same Redis: a run never reads what an earlier one left there
//! (those keys expire on their own, within an hour).
//!
//! Both instances live in this one process (each a `Cache` with its own memory, connection and
//! subscription), which is how they would share a Redis from two machines. The run checks what
//! it prints: it exits with status 1 if a call was not served from where it should have been.

use cached_query::{Cache, Config, RedisConfig, SharedStats, cached_query};
use serde::{Deserialize, Serialize};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::{Duration, Instant, SystemTime};

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

/// Where a call's answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Database,
    Cache,
}

/// Calls `product(sku)` on `instance`, prints where the answer came from and how long it took,
/// and checks that it came from `expected`.
async fn timed(label: &str, instance: &Cache, sku: u32, expected: Source) -> Result<(), String> {
    let started = Instant::now();
    let queries = QUERIES.load(SeqCst);
    let result = instance.scope(product(sku)).await;
    let source = if QUERIES.load(SeqCst) > queries {
        Source::Database
    } else {
        Source::Cache
    };
    println!(
        "{label:<46} {:>8.2} ms  from {:<8}  {result:?}",
        started.elapsed().as_secs_f64() * 1e3,
        format!("{source:?}").to_lowercase(),
    );
    if source == expected {
        Ok(())
    } else {
        Err(format!(
            "{label}: expected an answer from the {expected:?}, got {source:?}"
        ))
    }
}

fn shared(instance: &Cache) -> Result<SharedStats, String> {
    instance
        .stats()
        .shared
        .ok_or_else(|| "the instance has no shared tier".to_string())
}

async fn wait_until(
    instance: &Cache,
    what: &str,
    condition: impl Fn(&SharedStats) -> bool,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition(&shared(instance)?) {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting until {what}"));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    let outcome = match redis_url() {
        Ok((url, _own_server)) => run(&url).await,
        Err(message) => Err(message),
    };
    if let Err(message) = outcome {
        eprintln!("two_instances: {message}");
        std::process::exit(1);
    }
}

/// A namespace no earlier run used: the process id and the time.
fn fresh_namespace() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    format!("two-instances-demo-{}-{nanos:x}", std::process::id())
}

/// The demonstration, against the Redis at `url`.
pub(crate) async fn run(url: &str) -> Result<(), String> {
    let namespace = fresh_namespace();
    println!("Redis at {url}, namespace {namespace}\n");
    let instance = || {
        Cache::new(
            Config::new()
                .namespace(namespace.as_str())
                .redis(RedisConfig::new(url)),
        )
    };
    let (a, b) = (instance(), instance());
    wait_until(&a, "instance a listens to invalidations", |s| s.subscribed).await?;
    wait_until(&b, "instance b listens to invalidations", |s| s.subscribed).await?;
    PRICE.store(1999, SeqCst);

    timed("instance a: product(7), cold", &a, 7, Source::Database).await?;
    wait_until(&a, "a's value reached Redis", |s| s.writes >= 1).await?;
    let label = "instance b: product(7), never seen before";
    timed(label, &b, 7, Source::Cache).await?;
    timed(
        "instance b: product(7) again (its memory)",
        &b,
        7,
        Source::Cache,
    )
    .await?;

    PRICE.store(2499, SeqCst);
    a.scope(cached_query::invalidate_tag("product:7"))
        .await
        .map_err(|e| format!("invalidation: {e}"))?;
    println!("\ninstance a: price changed, invalidate_tag(\"product:7\") confirmed by both\n");
    let label = "instance b: product(7) after a's invalidation";
    timed(label, &b, 7, Source::Database).await?;
    wait_until(&b, "b's new value reached Redis", |s| s.writes >= 1).await?;
    timed("instance a: product(7)", &a, 7, Source::Cache).await?;

    // A miss in memory is answered by Redis (a remote hit) or by the database.
    for (name, cache) in [("a", &a), ("b", &b)] {
        let counts = cache
            .stats()
            .function("product")
            .map(|f| f.counts)
            .unwrap_or_default();
        let s = shared(cache)?;
        println!(
            "\ninstance {name}: product() answered {} times from memory, {} from Redis, {} from \
             the database; {} writes to Redis, {} invalidations received, breaker {:?}, {} errors",
            counts.hits,
            counts.remote_hits,
            counts.misses - counts.remote_hits,
            s.writes,
            s.invalidations_received,
            s.breaker,
            s.errors
        );
    }
    Ok(())
}
