//! Hit ratio, not speed: does the engine keep the entries worth keeping? A Zipf-distributed trace
//! (s = 0.9 and 1.1) over 1 M keys, replayed against caches that hold 10 % of them (100 k
//! entries): `#[cached_query]` on each of its engines, and raw quick_cache and moka bounded to the
//! same number of entries. Each side sees the same trace; the first half warms it, the ratio is
//! measured over the second.
//!
//! Deterministic (a fixed-seed generator), so it is a count, not a timing: run by
//! `scripts/bench.sh`, which writes the table into BENCHMARKS.md; under
//! `cargo test --all-targets` it replays a small trace as a smoke test.

#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)] // a bench

mod support;

use cached_query::{Cache, Config, Engine, cached_query};
use std::hint::black_box;
use std::time::Duration;
use support::{Small, full_run, small, write_extra};

#[cached_query(ttl = "1h")]
async fn traced(id: u64) -> Small {
    small(id)
}

/// A Zipf sampler over ranks `0..n` (rank 0 the most frequent): the cumulative weights `1/k^s`,
/// searched with a uniform draw from a splitmix64 generator of fixed seed.
struct Zipf {
    cumulative: Vec<f64>,
    state: u64,
}

impl Zipf {
    fn new(n: u64, s: f64, seed: u64) -> Zipf {
        let mut total = 0.0;
        let cumulative = (1..=n)
            .map(|k| {
                total += 1.0 / (k as f64).powf(s);
                total
            })
            .collect();
        Zipf {
            cumulative,
            state: seed,
        }
    }

    fn next_unit(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The next key: a rank drawn by weight, scattered over the key space so that popular keys
    /// are not neighbours (7,919 is prime, hence coprime with the key count).
    fn next_key(&mut self) -> u64 {
        let total = *self.cumulative.last().unwrap();
        let draw = self.next_unit() * total;
        let rank = self.cumulative.partition_point(|&c| c < draw) as u64;
        let n = self.cumulative.len() as u64;
        rank.min(n - 1).wrapping_mul(7_919) % n
    }
}

/// The shape of one experiment.
struct Trace {
    keys: u64,
    capacity: u64,
    requests: usize,
}

impl Trace {
    fn keys(&self, s: f64) -> Vec<u64> {
        let mut zipf = Zipf::new(self.keys, s, 0x5EED);
        (0..self.requests).map(|_| zipf.next_key()).collect()
    }
}

/// Hits over the second half of `trace`, in percent, for a side answering `hit(key)` (which also
/// inserts the key on a miss).
fn ratio(trace: &[u64], mut hit: impl FnMut(u64) -> bool) -> f64 {
    let half = trace.len() / 2;
    let mut hits = 0usize;
    for (i, &key) in trace.iter().enumerate() {
        let was_hit = hit(key);
        if i >= half && was_hit {
            hits += 1;
        }
    }
    100.0 * hits as f64 / (trace.len() - half) as f64
}

/// What one entry of `traced` weighs in an instance of `engine` (all its entries weigh the same),
/// so that a byte capacity holds exactly the wanted number of entries.
fn entry_weight(rt: &tokio::runtime::Runtime, engine: Engine) -> u64 {
    let probe = Cache::new(Config::new().engine(engine));
    rt.block_on(probe.scope(async { black_box(traced(u64::MAX).await) }));
    rt.block_on(probe.run_pending_tasks());
    let counts = probe.stats().total;
    counts.weighted_size / counts.entries.max(1)
}

fn ours(rt: &tokio::runtime::Runtime, engine: Engine, shape: &Trace, trace: &[u64]) -> f64 {
    let weight = entry_weight(rt, engine);
    let cache = Cache::new(
        Config::new()
            .engine(engine)
            .max_capacity_bytes(shape.capacity * weight)
            .default_ttl(Duration::from_secs(3_600)),
    );
    let misses = || cache.stats().total.misses;
    // Every call is ready at once (the body does not wait), so polling it once is enough; the
    // loop never yields, so it runs outside tokio's budget (which would make a hit wait).
    rt.block_on(tokio::task::coop::unconstrained(cache.scope(async {
        ratio(trace, |key| {
            let before = misses();
            let value = support::answer_at_once(traced(key)).unwrap();
            black_box(value);
            misses() == before
        })
    })))
}

fn raw_quick(shape: &Trace, trace: &[u64]) -> f64 {
    let cache = quick_cache::sync::Cache::<u64, Small>::new(shape.capacity as usize);
    ratio(trace, |key| {
        if cache.get(&key).is_some() {
            return true;
        }
        cache.insert(key, small(key));
        false
    })
}

fn raw_moka(shape: &Trace, trace: &[u64]) -> f64 {
    let cache = moka::sync::Cache::<u64, Small>::new(shape.capacity);
    ratio(trace, |key| {
        if cache.get(&key).is_some() {
            return true;
        }
        cache.insert(key, small(key));
        false
    })
}

fn main() {
    let shape = if full_run() {
        Trace {
            keys: 1_000_000,
            capacity: 100_000,
            requests: 4_000_000,
        }
    } else {
        Trace {
            keys: 10_000,
            capacity: 1_000,
            requests: 20_000,
        }
    };
    let rt = support::current_thread();
    let mut report = format!(
        "side\ts\thit_ratio_percent\t(keys: {}, capacity: {}, requests: {})\n",
        shape.keys, shape.capacity, shape.requests
    );
    for s in [0.9, 1.1] {
        let trace = shape.keys(s);
        let sides = [
            (
                "cached_query",
                ours(&rt, Engine::QuickCache, &shape, &trace),
            ),
            #[cfg(feature = "moka")]
            ("cached_query_moka", ours(&rt, Engine::Moka, &shape, &trace)),
            ("raw_quick_cache", raw_quick(&shape, &trace)),
            ("raw_moka", raw_moka(&shape, &trace)),
        ];
        for (side, percent) in sides {
            report.push_str(&format!("{side}\t{s}\t{percent:.2}\n"));
        }
    }
    print!("{report}");
    write_extra("hit_ratio.tsv", &report);
}
