//! Memoize async functions and methods with one attribute: TTLs, tags, single-flight, stats.
//!
//! ```
//! use cached_query::cached_query;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Clone, Debug, Serialize, Deserialize)]
//! struct User { id: u64, name: String }
//! # #[derive(Debug)] struct DbError;
//! # struct Pool;
//! # impl Pool { async fn load(&self, id: u64) -> Result<User, DbError> { Ok(User { id, name: "Ada".into() }) } }
//!
//! #[cached_query(ttl = "5m", tags = ["users", "user:{id}"], skip(db))]
//! async fn get_user(db: &Pool, id: u64) -> Result<User, DbError> {
//!     db.load(id).await
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let db = Pool;
//! let first = get_user(&db, 42).await;  // runs the query
//! let second = get_user(&db, 42).await; // a hit: a clone of the cached `User`
//!
//! // after writing user 42:
//! cached_query::invalidate_tag("user:42").await?;
//!
//! // one call, by calling it:
//! cached_query::forget(get_user(&db, 42)).await;            // drop its entry
//! let fresh = cached_query::refresh(get_user(&db, 42)).await; // recompute it
//!
//! let stats = cached_query::stats();
//! println!("{} hits, {} misses", stats.total.hits, stats.total.misses);
//! # Ok(()) }
//! ```
//!
//! * **Keys** are the function's full path (impl type included for methods), its `version`, the
//!   type arguments of generic functions and the bincode encoding of every argument not in
//!   `skip(...)`, hashed to 128 bits with xxh3. `self` is part of the key unless skipped.
//! * **Values** live in an in-memory [moka](https://docs.rs/moka) cache bounded in bytes
//!   (TinyLFU admission, per-entry TTL). `Result` caches `Ok` only, `Option` caches `Some` only.
//! * **Tags** are generation counters: [`invalidate_tag`] is O(1), and a value computed before
//!   an invalidation completed is never served after it, even if its computation was running.
//! * **Single-flight**: concurrent identical calls run the body once. A panicking or cancelled
//!   call never leaves a key stuck; a same-key call from inside its own computation runs
//!   uncached instead of deadlocking.
//! * **A cache failure is never the caller's failure**: an argument that fails to encode makes
//!   the call run uncached (and counted), a foreign value under a key is a miss.
//! * **Statistics** per function and in total: [`stats`].
//!
//! The attribute and every option are documented on [`cached_query`](macro@cached_query).
//! Configuration is optional: [`Config`] sets the capacity, default TTL and namespace at
//! start-up.
//!
//! # On write
//!
//! [`cache_invalidate`](macro@cache_invalidate) invalidates tags when a write succeeds;
//! [`cache_put`](macro@cache_put) stores the write's new value as the entry of a read call, so
//! the next read is a hit. The manual API ([`remember`], [`get`], [`put`], [`put_forever`],
//! [`pull`], [`increment`], [`ttl_of`], …) caches what is not a function call.
//!
//! # Calling modes
//!
//! | spelling | effect |
//! |---|---|
//! | [`forget`]`(f(args))` | drops that call's entry; the body does not run |
//! | [`forget_all`]`(f(any args))` | drops every entry of the function |
//! | [`refresh`]`(f(args))` | runs the body and replaces the entry |
//! | [`bypass`]`(async { .. })` | everything inside runs uncached (tests, admin paths) |
//!
//! # Feature flags
//!
//! | feature | default | what it enables |
//! |---|---|---|
//! | `macros` | yes | the `#[cached_query]` attribute (brings in `syn` and `darling` at build time) |
//! | `redis` | no | the shared tier: Redis behind the in-memory store ([`Config::redis`]) |
//! | `tracing` | no | a `tracing` event (target `cached_query`) per cached call: function, key hash, outcome (`hit`, `miss`, `coalesced`, `stale`, `refresh`, `bypass`, `error`), tier, compute time; events for invalidations (tag count only) and shared-store incidents. Never an argument value. |
//! | `metrics` | no | `cached_query_calls_total{function, outcome, tier}`, `cached_query_compute_seconds{function}`, `cached_query_invalidations_total`, `cached_query_shared_incidents_total{incident}` through the `metrics` facade (install the recorder before the first cached call) |
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![doc(test(
    no_crate_inject,
    attr(deny(warnings, rust_2018_idioms), allow(dead_code, unused_variables))
))]

#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
#[doc = include_str!("attribute.md")]
pub use cached_query_macros::cached_query;

#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
#[doc = include_str!("invalidate_attribute.md")]
pub use cached_query_macros::cache_invalidate;

#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
#[doc = include_str!("put_attribute.md")]
pub use cached_query_macros::cache_put;

#[doc(inline)]
pub use cached_query_runtime::{
    AlreadyInstalled, Cache, Config, Counts, Engine, FOREVER, FunctionStats, InvalidateError,
    ManualClock, Stats, Weigh, age_of, bypass, decrement, forget, forget_all, forget_key,
    forget_many, get, get_many, has, increment, invalidate_all, invalidate_tag, invalidate_tags,
    pull, put, put_forever, put_many, refresh, remember, run_pending_tasks, stats, ttl_of, warm,
};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
#[doc(inline)]
pub use cached_query_runtime::{BreakerState, RedisConfig, SharedStats};
/// Named groups of manual entries with options of their own, and compute times in stats.
#[doc(inline)]
pub use cached_query_runtime::{ComputeTimes, Keyspace, Rules};

/// Not public API: what the code generated by `#[cached_query]` calls.
///
/// /!\ WARNING: this is *not* a stable API. It may change in any release without warning.
#[doc(hidden)]
pub mod __private {
    pub use cached_query_runtime::private::*;
}
