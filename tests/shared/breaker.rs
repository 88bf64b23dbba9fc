//! A probe whose caller goes away (issue 11): after the breaker's cool-down the next call
//! probes Redis; if that caller is dropped mid-probe (a client gone, a `timeout`, a `select!`),
//! the probe must still settle the breaker, or the tier stays switched off until restart.

use crate::support::{RedisServer, ready, shared};
use cached_query::{BreakerState, Cache, Config, cached_query};
use std::time::{Duration, Instant};

#[cached_query(ttl = "10m")]
async fn probed(x: u32) -> u64 {
    u64::from(x) + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_probe_cannot_leave_the_breaker_half_open() {
    let server = RedisServer::start();
    let cache = Cache::new(
        Config::new().namespace("probe").redis(
            server
                .config()
                .operation_timeout(Duration::from_millis(100))
                .breaker(1, Duration::from_millis(20)),
        ),
    );
    ready(&[&cache]).await;
    server.freeze();
    assert_eq!(cache.scope(probed(1)).await, 2, "timed out, then computed");
    assert_eq!(shared(&cache).breaker, BreakerState::Open);
    let cooled = Instant::now() + Duration::from_secs(5);
    while shared(&cache).breaker != BreakerState::HalfOpen {
        assert!(Instant::now() < cooled, "the cool-down never ended");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    // The probe: Redis is frozen, so it hangs; its caller gives up long before the budget.
    let gave_up = tokio::time::timeout(Duration::from_millis(5), cache.scope(probed(2))).await;
    assert!(gave_up.is_err(), "the caller was cancelled mid-probe");
    server.thaw();

    // Calls go back to Redis: the breaker closes and a value computed here is written.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut x = 3;
    while shared(&cache).breaker != BreakerState::Closed || shared(&cache).writes == 0 {
        assert!(
            Instant::now() < deadline,
            "the tier stayed switched off: {:?}",
            shared(&cache)
        );
        assert_eq!(cache.scope(probed(x)).await, u64::from(x) + 1);
        x += 1;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
