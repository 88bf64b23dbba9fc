//! The operator's router: what the cache is doing right now, and the means to invalidate.

mod auth;
mod report;

use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cached_query::Cache;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use std::fmt;
use std::sync::Arc;

/// The page: one file, its CSS and JS inline, no external asset, no build step.
const PAGE: &str = include_str!("page.html");

/// Builds the operator's router, to mount under any path (`Router::nest("/ops", ..)`):
///
/// | method and path | answer |
/// |---|---|
/// | `GET /` | the HTML page: hit ratio over time, top functions by traffic and by time saved, the shared tier's health |
/// | `GET /stats` | the stats as JSON: per function hits, misses, hit ratio, entries, bytes held, compute p50/p99/mean, time saved |
/// | `GET /metrics` | the same in the Prometheus text format |
/// | `GET /health` | the shared tier's health (`memory-only`, `ok` or `degraded`) |
/// | `POST /invalidate/tag/{tag}` | invalidates a tag (bearer token required) |
/// | `POST /invalidate/function/{name}` | invalidates every entry of a function (bearer token required; 404 if no function has that name) |
///
/// The `POST` endpoints exist only when a token is configured: without one they answer 404,
/// and with one, a request without it or with another gets 401.
///
/// ```
/// use cached_query_http::Operator;
///
/// let ops = Operator::new().token(std::env::var("OPS_TOKEN").unwrap_or_default()).into_router();
/// let app: axum::Router = axum::Router::new().nest("/ops", ops);
/// # let _ = app;
/// ```
#[derive(Clone, Default)]
pub struct Operator {
    cache: Option<Cache>,
    token: Option<Arc<str>>,
}

impl fmt::Debug for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operator")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

impl Operator {
    /// Reports on the process-wide cache instance; no invalidation endpoints.
    pub fn new() -> Operator {
        Operator::default()
    }

    /// Reports on (and invalidates in) `cache` instead of the process-wide instance.
    ///
    /// ```
    /// let ops = cached_query_http::Operator::new().cache(cached_query::Cache::global());
    /// # let _ = ops;
    /// ```
    pub fn cache(mut self, cache: Cache) -> Operator {
        self.cache = Some(cache);
        self
    }

    /// Enables the invalidation endpoints, for requests with `Authorization: Bearer <token>`.
    /// An empty token enables nothing (so an unset environment variable does not open them).
    ///
    /// ```
    /// let ops = cached_query_http::Operator::new().token("s3cret");
    /// # let _ = ops;
    /// ```
    pub fn token(mut self, token: impl Into<String>) -> Operator {
        let token = token.into();
        self.token = (!token.is_empty()).then(|| token.into());
        self
    }

    /// The router, to mount with `nest` (its page fetches its endpoints relative to where it
    /// is served).
    ///
    /// ```
    /// let app: axum::Router = axum::Router::new()
    ///     .nest("/internal/cache", cached_query_http::Operator::new().into_router());
    /// # let _ = app;
    /// ```
    pub fn into_router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        let cache = self.cache.unwrap_or_else(Cache::global);
        let router = Router::new()
            .route("/", get(page))
            .route("/stats", get(move || async move { stats_json(cache) }))
            .route("/metrics", get(move || async move { metrics(cache) }))
            .route("/health", get(move || async move { health(cache) }));
        let Some(token) = self.token else {
            return router;
        };
        let tag_token = Arc::clone(&token);
        router
            .route(
                "/invalidate/tag/{tag}",
                post(move |headers: HeaderMap, Path(tag): Path<String>| async move {
                    if !auth::carries_token(&headers, &tag_token) {
                        return unauthorized();
                    }
                    match cache.invalidate_tag(&tag).await {
                        Ok(()) => json(StatusCode::OK, &serde_json::json!({ "invalidated_tag": tag })),
                        Err(e) => not_confirmed(&e),
                    }
                }),
            )
            .route(
                "/invalidate/function/{name}",
                post(move |headers: HeaderMap, Path(name): Path<String>| async move {
                    if !auth::carries_token(&headers, &token) {
                        return unauthorized();
                    }
                    match cache.invalidate_function(&name).await {
                        Ok(true) => json(StatusCode::OK, &serde_json::json!({ "invalidated_function": name })),
                        Ok(false) => json(
                            StatusCode::NOT_FOUND,
                            &serde_json::json!({ "error": format!("no cached function named `{name}` has been called") }),
                        ),
                        Err(e) => not_confirmed(&e),
                    }
                }),
            )
    }
}

async fn page() -> Response {
    let mut response = PAGE.into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn json_text(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    json_text(status, value.to_string())
}

fn stats_json(cache: Cache) -> Response {
    json_text(StatusCode::OK, report::json(&cache.stats()))
}

fn health(cache: Cache) -> Response {
    let health = report::health(&cache.stats());
    json_text(
        StatusCode::OK,
        serde_json::to_string(&health).unwrap_or_default(),
    )
}

fn metrics(cache: Cache) -> Response {
    let mut response = report::prometheus(&cache.stats()).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

fn unauthorized() -> Response {
    let mut response = json(
        StatusCode::UNAUTHORIZED,
        &serde_json::json!({ "error": "a valid bearer token is required" }),
    );
    response
        .headers_mut()
        .insert("www-authenticate", HeaderValue::from_static("Bearer"));
    response
}

/// The in-memory invalidation happened; the shared store did not confirm it.
fn not_confirmed(error: &cached_query::InvalidateError) -> Response {
    json(
        StatusCode::SERVICE_UNAVAILABLE,
        &serde_json::json!({ "error": error.to_string() }),
    )
}
