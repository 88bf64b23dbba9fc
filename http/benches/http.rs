//! Requests per second through an axum router, in process (no sockets: what the layer costs and
//! saves, not what the kernel's loopback does): the handler uncached, the same route answered
//! from the response cache (a hit), and a `304` for a request carrying the ETag. The handler
//! renders a page of 20 users as JSON (~2 KB), the kind of work a cached response skips.
//! `scripts/bench_http.py` turns criterion's medians into BENCHMARKS.md's section.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use cached_query_http::{ResponseCacheLayer, Route};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde::Serialize;
use std::hint::black_box;
use tower::ServiceExt;

#[derive(Serialize)]
struct User {
    id: u64,
    name: String,
    email: String,
    roles: Vec<&'static str>,
}

/// The handler: a page of 20 users rendered as JSON.
async fn page_of_users() -> ([(header::HeaderName, &'static str); 1], String) {
    let users: Vec<User> = (1..=20)
        .map(|id| User {
            id,
            name: format!("User number {id}"),
            email: format!("user{id}@example.com"),
            roles: vec!["reader", "writer", "reviewer"],
        })
        .collect();
    let body = serde_json::to_string(&users).unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body)
}

fn router(cached: bool) -> Router {
    let router = Router::new().route("/users", get(page_of_users));
    if cached {
        router.layer(ResponseCacheLayer::new().route(Route::new("/users")))
    } else {
        router
    }
}

fn request(etag: Option<&str>) -> Request<Body> {
    let mut builder = Request::get("/users");
    if let Some(etag) = etag {
        builder = builder.header(header::IF_NONE_MATCH, etag);
    }
    builder.body(Body::empty()).unwrap_or_default()
}

async fn status_of(app: &Router, etag: Option<&str>) -> StatusCode {
    match app.clone().oneshot(request(etag)).await {
        Ok(response) => {
            let status = response.status();
            // The body is read, as a server would send it.
            let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
            status
        }
        Err(never) => match never {},
    }
}

fn requests(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("a tokio runtime: {e}"));
    let uncached = router(false);
    let cached = router(true);
    let etag = runtime.block_on(async {
        let response = cached.clone().oneshot(request(None)).await;
        response
            .ok()
            .and_then(|r| r.headers().get(header::ETAG).cloned())
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .unwrap_or_default()
    });
    assert!(!etag.is_empty(), "the cached route sends an ETag");
    assert_eq!(
        runtime.block_on(status_of(&cached, Some(&etag))),
        StatusCode::NOT_MODIFIED
    );

    let mut group = c.benchmark_group("http_requests");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::from_parameter("handler_uncached"), |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(status_of(&uncached, None).await) });
    });
    group.bench_function(BenchmarkId::from_parameter("cached_hit"), |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(status_of(&cached, None).await) });
    });
    group.bench_function(BenchmarkId::from_parameter("not_modified_304"), |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(status_of(&cached, Some(&etag)).await) });
    });
    group.finish();
}

criterion_group!(benches, requests);
criterion_main!(benches);
