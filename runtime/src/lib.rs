//! Runtime of [`cached-query`](https://docs.rs/cached-query): keys, the in-memory store, tags,
//! single-flight, calling modes and statistics. Use it through the `cached-query` crate, which
//! re-exports everything here next to the `#[cached_query]` attribute.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, deny(rustdoc::broken_intra_doc_links))]

// The layers, lowest first; each uses only those above it in this list.
mod batching;
mod bounds;
mod clock;
mod codec;
mod engine;
mod fast_map;
mod flight;
mod function;
mod hex;
mod key;
mod key_bytes;
mod key_hash;
mod observe;
mod policy;
mod remote_hit;
mod runtime;
mod share;
#[cfg(feature = "redis")]
mod shared;
mod site;
mod stats;
mod store;
mod tags;
mod tier;
mod timing;
mod value;
mod weigh;
mod windows;
// The public API, over the engine.
mod by_name;
mod cache;
mod counter;
mod invalidate;
mod keyspace;
mod manual;
#[doc(hidden)]
pub mod private;
mod scope;
mod warm;

pub use cache::Cache;
pub use clock::ManualClock;
pub use counter::{decrement, increment};
pub use invalidate::{InvalidateError, invalidate_all, invalidate_tag, invalidate_tags};
pub use keyspace::{Keyspace, Rules};
pub use manual::{
    age_of, forget_key, forget_many, get, get_many, has, pull, put, put_forever, put_many,
    remember, ttl_of,
};
pub use runtime::{AlreadyInstalled, Config};
pub use scope::{bypass, forget, forget_all, refresh};
#[cfg(feature = "redis")]
pub use shared::RedisConfig;
pub use site::FOREVER;
pub use stats::{Counts, FunctionStats, Stats};
pub use store::Engine;
pub use tier::{BreakerState, SharedStats};
pub use timing::ComputeTimes;
pub use warm::warm;
pub use weigh::Weigh;

/// A snapshot of the counters of every cached function called so far, and their sum.
///
/// ```
/// let stats = cached_query_runtime::stats();
/// println!("hit ratio: {:.2}", stats.total.hit_ratio());
/// ```
pub fn stats() -> Stats {
    Cache::current().stats()
}

/// Runs the store's pending housekeeping now: removes expired entries, applies evictions and
/// updates entry counts. It also runs in the background (every 250 ms; expired entries every
/// 5 s); call this to make [`stats`] exact at a point in a test.
///
/// ```
/// # async fn demo() {
/// cached_query_runtime::run_pending_tasks().await;
/// let entries = cached_query_runtime::stats().total.entries;
/// # let _ = entries;
/// # }
/// ```
pub async fn run_pending_tasks() {
    Cache::current().run_pending_tasks().await;
}
