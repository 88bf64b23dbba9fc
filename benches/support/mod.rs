//! What the benchmarks share: the function shape every side implements (one `u64` argument, a
//! small `Copy` struct as the value), the key walk, the engine our side runs on, and where
//! figures criterion does not record are written for `scripts/bench.sh`.
#![allow(dead_code, unreachable_pub)] // each bench binary uses part of it, from its own root

/// The tests' redis-server processes (one server or a cluster), shared rather than copied.
#[path = "../../tests/shared/servers.rs"]
pub mod servers;

use cached_query::{Config, Engine};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Small {
    pub id: u64,
    pub score: u32,
    pub active: bool,
}

pub fn small(id: u64) -> Small {
    Small {
        id,
        score: (id as u32).wrapping_mul(7),
        active: id.is_multiple_of(2),
    }
}

/// `--bench` is passed by `cargo bench`; `cargo test --all-targets` runs the binary without it,
/// as a smoke test on small sizes.
pub fn full_run() -> bool {
    static FULL: OnceLock<bool> = OnceLock::new();
    *FULL.get_or_init(|| std::env::args().any(|a| a == "--bench"))
}

/// The `i`th key of a walk over `n` resident keys: every key in turn, in a scattered order.
pub fn walk(i: u64, n: u64) -> u64 {
    (i.wrapping_mul(7_919)) % n
}

/// The in-memory engine our side runs on in this process: quick_cache (the default), or moka
/// when `CQ_BENCH_ENGINE=moka` (`scripts/bench.sh` runs the binary once per engine).
pub fn engine() -> Engine {
    match std::env::var("CQ_BENCH_ENGINE").as_deref() {
        #[cfg(feature = "moka")]
        Ok("moka") => Engine::Moka,
        #[cfg(not(feature = "moka"))]
        Ok("moka") => panic!("CQ_BENCH_ENGINE=moka needs `--features moka`"),
        _ => Engine::QuickCache,
    }
}

/// Our side's name in the tables: `cached_query` on quick_cache, `cached_query_moka` on moka.
pub fn ours_side() -> &'static str {
    match engine() {
        Engine::QuickCache => "cached_query",
        _ => "cached_query_moka",
    }
}

/// Installs the process-wide configuration every bench uses: room for every resident entry of
/// the run (nothing is evicted while we measure), a TTL longer than the run, on [`engine`].
pub fn install_config() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let installed = Config::new()
            .engine(engine())
            .max_capacity_bytes(4 << 30)
            .default_ttl(Duration::from_secs(3_600))
            .install();
        assert!(installed.is_ok(), "installed before the first cached call");
    });
}

pub fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Figures criterion does not record, for `scripts/bench.sh`: into `$CQ_BENCH_OUT` when set.
pub fn write_extra(file: &str, contents: &str) {
    if let Some(dir) = std::env::var_os("CQ_BENCH_OUT") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(file), contents).unwrap();
    }
}

pub fn label(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// Polls `call` once: its output if it answered without waiting for anything.
pub fn answer_at_once<F: std::future::Future>(call: F) -> Option<F::Output> {
    use std::task::{Context, Poll, Waker};
    let mut call = std::pin::pin!(call);
    match call.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}
