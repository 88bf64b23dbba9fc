//! The operator's router over real HTTP, mounted under `/ops`: the reports, and the
//! invalidation endpoints' token rules (401 without or with a wrong token, 404 without one
//! configured).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: failing loudly is the point

mod support;

use axum::Router;
use axum::routing::get;
use cached_query::{Cache, Config};
use cached_query_http::{Operator, ResponseCacheLayer, Route};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use support::{get as fetch, send, serve};

const TOKEN: &str = "0p3rat0r-t0ken";

/// An app with one cached route and the operator's router; `calls` counts the handler's runs.
async fn start(token: Option<&str>) -> (SocketAddr, Arc<AtomicUsize>) {
    let cache = Cache::new(Config::new());
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let mut operator = Operator::new().cache(cache);
    if let Some(token) = token {
        operator = operator.token(token);
    }
    let app = Router::new()
        .route(
            "/users/{id}",
            get(move || {
                let calls = Arc::clone(&counted);
                async move { format!("user, version {}", calls.fetch_add(1, SeqCst)) }
            }),
        )
        .layer(
            ResponseCacheLayer::new()
                .cache(cache)
                .route(Route::new("/users/{id}").tags(["user:{id}"])),
        )
        .nest("/ops", operator.into_router());
    (serve(app).await, calls)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn invalidation_needs_the_token_and_then_drops_the_response() {
    let (address, calls) = start(Some(TOKEN)).await;
    fetch(address, "/users/42", &[]).await;
    fetch(address, "/users/42", &[]).await;
    assert_eq!(calls.load(SeqCst), 1);

    let path = "/ops/invalidate/tag/user:42";
    let without = send(address, "POST", path, &[], b"").await;
    assert_eq!(without.status, 401);
    assert_eq!(without.header("www-authenticate"), Some("Bearer"));
    let wrong = send(
        address,
        "POST",
        path,
        &[("authorization", &bearer("0p3rat0r-t0kem"))],
        b"",
    )
    .await;
    assert_eq!(wrong.status, 401);
    let prefix = send(
        address,
        "POST",
        path,
        &[("authorization", &bearer("0p3rat0r"))],
        b"",
    )
    .await;
    assert_eq!(prefix.status, 401);
    fetch(address, "/users/42", &[]).await;
    assert_eq!(
        calls.load(SeqCst),
        1,
        "refused requests invalidated nothing"
    );

    let right = send(
        address,
        "POST",
        path,
        &[("authorization", &bearer(TOKEN))],
        b"",
    )
    .await;
    assert_eq!(right.status, 200, "{}", right.text());
    let after = fetch(address, "/users/42", &[]).await;
    assert_eq!(after.text(), "user, version 1");
    assert_eq!(calls.load(SeqCst), 2);
}

#[tokio::test]
async fn a_function_is_invalidated_by_name_and_an_unknown_name_is_404() {
    let (address, calls) = start(Some(TOKEN)).await;
    fetch(address, "/users/1", &[]).await;
    fetch(address, "/users/2", &[]).await;
    let auth = [("authorization", bearer(TOKEN))];
    let auth: Vec<(&str, &str)> = auth.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let path = "/ops/invalidate/function/http%20GET%20%2Fusers%2F%7Bid%7D";
    let unauthorized = send(address, "POST", path, &[], b"").await;
    assert_eq!(unauthorized.status, 401);
    let done = send(address, "POST", path, &auth, b"").await;
    assert_eq!(done.status, 200, "{}", done.text());
    fetch(address, "/users/1", &[]).await;
    fetch(address, "/users/2", &[]).await;
    assert_eq!(calls.load(SeqCst), 4, "both responses were dropped");
    let unknown = send(
        address,
        "POST",
        "/ops/invalidate/function/no_such_fn",
        &auth,
        b"",
    )
    .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn without_a_token_the_invalidation_endpoints_do_not_exist() {
    let (address, calls) = start(None).await;
    fetch(address, "/users/42", &[]).await;
    for path in ["/ops/invalidate/tag/user:42", "/ops/invalidate/function/x"] {
        let with_any = send(address, "POST", path, &[("authorization", "Bearer x")], b"").await;
        assert_eq!(with_any.status, 404, "{path}");
        let without = send(address, "POST", path, &[], b"").await;
        assert_eq!(without.status, 404, "{path}");
    }
    fetch(address, "/users/42", &[]).await;
    assert_eq!(calls.load(SeqCst), 1);
    // An empty token (an unset variable) enables nothing either.
    let empty = Operator::new().token("");
    assert!(format!("{empty:?}").contains("token: None"));
}

#[tokio::test]
async fn the_reports_show_each_function_with_times_and_bytes() {
    let (address, _) = start(None).await;
    for _ in 0..3 {
        fetch(address, "/users/7", &[]).await;
    }
    let stats = fetch(address, "/ops/stats", &[]).await;
    assert_eq!(stats.status, 200);
    assert_eq!(stats.header("content-type"), Some("application/json"));
    let report: serde_json::Value = serde_json::from_slice(&stats.body).expect("JSON");
    let rows = report["functions"].as_array().expect("a list of functions");
    let row = rows
        .iter()
        .find(|r| r["name"] == "http GET /users/{id}")
        .expect("the route's row");
    assert_eq!(row["hits"], 2);
    assert_eq!(row["misses"], 1);
    assert_eq!(row["compute_count"], 1);
    assert!(row["compute_p99_ms"].as_f64().is_some_and(|ms| ms > 0.0));
    assert!(row["bytes"].as_u64().is_some_and(|b| b > 0));
    assert!(row["time_saved_ms"].as_f64().is_some_and(|ms| ms > 0.0));
    assert_eq!(report["health"]["status"], "memory-only");

    let metrics = fetch(address, "/ops/metrics", &[]).await;
    assert!(
        metrics
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain"))
    );
    let text = metrics.text();
    assert!(
        text.contains("cached_query_hits_total{function=\"http GET /users/{id}\"} 2\n"),
        "{text}"
    );
    assert!(text.contains("# TYPE cached_query_bytes gauge"));
    assert!(text.contains("# TYPE cached_query_compute_seconds summary"));
    let route = "function=\"http GET /users/{id}\"";
    assert!(text.contains(&format!(
        "cached_query_compute_seconds{{{route},quantile=\"0.99\"}} "
    )));
    assert!(text.contains(&format!(
        "cached_query_compute_seconds_count{{{route}}} 1\n"
    )));

    let health = fetch(address, "/ops/health", &[]).await;
    assert_eq!(health.text(), "{\"status\":\"memory-only\"}");
    let page = fetch(address, "/ops", &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<canvas id=\"chart\""));
    assert!(!page.text().contains("src=\"http"), "no external asset");
}
