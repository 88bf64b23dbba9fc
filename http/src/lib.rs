//! HTTP response caching for [`cached-query`](cached_query): a tower layer that keeps
//! responses in the same runtime as the cached queries, under the same tags, and an operator's
//! router that shows what the cache is doing.
//!
//! # The layer
//!
//! [`ResponseCacheLayer`] caches the responses of the [`Route`]s it is given. Per route, a
//! response is keyed by method, path, the query parameters and request headers the route
//! names; it carries tags templated from the path's segments, so one
//! `invalidate_tag("user:42")` drops the cached query *and* the cached response of
//! `/users/42`. Responses live in a [`Keyspace`](cached_query::Keyspace) per route: the
//! runtime's single-flight (100 concurrent requests of a cold URL run the handler once),
//! `stale_while_revalidate`, byte-bounded memory, the shared tier and per-route stats all
//! apply, with no second implementation of any of them.
//!
//! * Only `GET` and `HEAD`; only the route's statuses (200 by default); never a response with
//!   `Set-Cookie`, `Cache-Control: private`, `no-store` or `no-cache`, or a `Vary` naming a
//!   header outside the key; never a request with `Authorization` unless the route allows it.
//! * Bodies up to the route's `max_body_bytes` (1 MiB by default) and of a size known before
//!   they are read: a larger or streaming body is sent as it streams, never buffered.
//! * For the route's TTL, or the response's `s-maxage`/`max-age` (capped by the route's
//!   `max_ttl`).
//! * A strong `ETag` (xxh3-128 of the body, unless the handler set one) is stored with the
//!   response; `If-None-Match` is answered with `304` from memory, without calling the
//!   handler. Hits carry `Age`, and `Cache-Control` (the response's own, else `no-cache`: a
//!   client keeps its copy and asks each time, answered by a `304` from memory).
//!
//! ```
//! use cached_query_http::{ResponseCacheLayer, Route};
//! use std::time::Duration;
//!
//! let app: axum::Router = axum::Router::new()
//!     .route("/users/{id}", axum::routing::get(|| async { "user 42" }))
//!     .layer(
//!         ResponseCacheLayer::new()
//!             .route(Route::new("/users/{id}").ttl(Duration::from_secs(300)).tags(["users", "user:{id}"])),
//!     );
//! # let _ = app;
//! ```
//!
//! # The operator's router
//!
//! [`Operator`] builds an axum `Router` to mount anywhere (`nest("/ops", ..)`): the stats as
//! JSON, Prometheus text, compute-time p50/p99 and bytes held per function, the shared tier's
//! health, `POST` endpoints to invalidate a tag or a function (only with a bearer token
//! configured, compared in constant time), and a self-contained HTML page.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, deny(rustdoc::broken_intra_doc_links))]

mod key;
mod layer;
mod operator;
mod route;
mod rules;
mod stored;

pub use layer::{ResponseBody, ResponseCache, ResponseCacheLayer, ResponseFuture};
pub use operator::Operator;
pub use route::{Route, RouteError};
