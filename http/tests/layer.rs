//! The layer over real HTTP on a loopback port (issue 17's acceptance): hits served by the
//! layer, `304` from memory, invalidation shared with the cached queries, what is never
//! cached, and single-flight for a cold URL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: failing loudly is the point

mod support;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use cached_query::{Cache, Config, cached_query};
use cached_query_http::{ResponseCacheLayer, Route};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{get as fetch, send, serve, until};

/// The application behind the layer: a table of users, and how often each handler ran.
#[derive(Clone)]
struct App {
    users: Arc<Mutex<HashMap<u64, String>>>,
    user_handler: Arc<AtomicUsize>,
    other_handler: Arc<AtomicUsize>,
    /// `/slow/{id}` answers once this is released.
    release: Arc<tokio::sync::Semaphore>,
}

/// How often the cached query below ran (one test uses it).
static USER_QUERIES: AtomicUsize = AtomicUsize::new(0);

/// The cached query the handler of `/users/{id}` calls: same tag as the route.
#[cached_query(ttl = "5m", tags = ["user:{id}"], skip(users))]
async fn load_user(users: &Mutex<HashMap<u64, String>>, id: u64) -> Option<String> {
    USER_QUERIES.fetch_add(1, SeqCst);
    users.lock().ok()?.get(&id).cloned()
}

async fn user(State(app): State<App>, Path(id): Path<u64>) -> impl IntoResponse {
    app.user_handler.fetch_add(1, SeqCst);
    match load_user(&app.users, id).await {
        Some(name) => (
            StatusCode::OK,
            format!("{{\"id\":{id},\"name\":\"{name}\"}}"),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn rename(State(app): State<App>, Path(id): Path<u64>, body: String) -> StatusCode {
    if let Ok(mut users) = app.users.lock() {
        users.insert(id, body);
    }
    // The write's one invalidation drops the cached query and the cached response alike.
    match cached_query::invalidate_tag(&format!("user:{id}")).await {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn other(State(app): State<App>, headers: HeaderMap) -> impl IntoResponse {
    app.other_handler.fetch_add(1, SeqCst);
    let _ = headers;
    "other"
}

async fn with_cookie(State(app): State<App>) -> impl IntoResponse {
    app.other_handler.fetch_add(1, SeqCst);
    ([(header::SET_COOKIE, "session=abc")], "with cookie")
}

async fn no_store(State(app): State<App>) -> impl IntoResponse {
    app.other_handler.fetch_add(1, SeqCst);
    ([(header::CACHE_CONTROL, "no-store")], "no store")
}

async fn short_lived(State(app): State<App>) -> impl IntoResponse {
    app.other_handler.fetch_add(1, SeqCst);
    ([(header::CACHE_CONTROL, "max-age=120")], "two minutes")
}

async fn slow(State(app): State<App>, Path(id): Path<u64>) -> String {
    app.other_handler.fetch_add(1, SeqCst);
    let _permit = app.release.acquire().await;
    format!("slow {id}")
}

/// Starts the application with the layer in an instance of its own; returns its address.
async fn start() -> (std::net::SocketAddr, App, Cache) {
    let app = App {
        users: Arc::default(),
        user_handler: Arc::default(),
        other_handler: Arc::default(),
        release: Arc::new(tokio::sync::Semaphore::new(0)),
    };
    if let Ok(mut users) = app.users.lock() {
        users.insert(42, "Ada".to_owned());
    }
    let cache = Cache::new(Config::new());
    let layer = ResponseCacheLayer::new()
        .cache(cache)
        .route(Route::new("/users/{id}").tags(["users", "user:{id}"]))
        .route(Route::new("/other").ttl(Duration::from_secs(600)))
        .route(Route::new("/cookie"))
        .route(Route::new("/no-store"))
        .route(Route::new("/short"))
        .route(Route::new("/slow/{id}"));
    let router = Router::new()
        .route("/users/{id}", get(user).put(rename))
        .route("/other", get(other))
        .route("/cookie", get(with_cookie))
        .route("/no-store", get(no_store))
        .route("/short", get(short_lived))
        .route("/slow/{id}", get(slow))
        .with_state(app.clone())
        .layer(layer);
    (serve(router).await, app, cache)
}

#[tokio::test]
async fn a_second_get_is_served_by_the_layer() {
    let (address, app, _) = start().await;
    let first = fetch(address, "/users/42", &[]).await;
    let second = fetch(address, "/users/42", &[]).await;
    assert_eq!((first.status, second.status), (200, 200));
    assert_eq!(first.text(), "{\"id\":42,\"name\":\"Ada\"}");
    assert_eq!(second.body, first.body);
    assert_eq!(app.user_handler.load(SeqCst), 1);
    let etag = second.header("etag").expect("an ETag");
    assert_eq!(Some(etag), first.header("etag"));
    assert!(
        etag.starts_with('"') && etag.len() == 34,
        "a strong xxh3-128 ETag: {etag}"
    );
    assert_eq!(second.header("cache-control"), Some("no-cache"));
    assert!(second.header("age").is_some());
    assert_eq!(second.header("content-type"), first.header("content-type"));
}

#[tokio::test]
async fn if_none_match_with_the_etag_gets_304_from_memory() {
    let (address, app, _) = start().await;
    let first = fetch(address, "/users/42", &[]).await;
    let etag = first.header("etag").expect("an ETag").to_owned();
    let revalidated = fetch(address, "/users/42", &[("if-none-match", &etag)]).await;
    assert_eq!(revalidated.status, 304);
    assert!(revalidated.body.is_empty());
    assert_eq!(revalidated.header("etag"), Some(etag.as_str()));
    assert!(revalidated.header("age").is_some());
    assert_eq!(
        app.user_handler.load(SeqCst),
        1,
        "the handler was not called"
    );
    // Another tag: the full response, still from memory.
    let other = fetch(address, "/users/42", &[("if-none-match", "\"nope\"")]).await;
    assert_eq!((other.status, other.body), (200, first.body));
    assert_eq!(app.user_handler.load(SeqCst), 1);
}

#[tokio::test]
async fn a_put_that_invalidates_the_tag_makes_the_next_get_run_the_handler() {
    let (address, app, _) = start().await;
    let before = fetch(address, "/users/42", &[]).await;
    let queries = USER_QUERIES.load(SeqCst);
    let put = send(address, "PUT", "/users/42", &[], b"Grace").await;
    assert_eq!(put.status, 204);
    let after = fetch(address, "/users/42", &[]).await;
    assert_eq!(after.text(), "{\"id\":42,\"name\":\"Grace\"}");
    assert_ne!(
        after.header("etag"),
        before.header("etag"),
        "a new body, a new ETag"
    );
    assert_eq!(app.user_handler.load(SeqCst), 2);
    assert_eq!(
        USER_QUERIES.load(SeqCst),
        queries + 1,
        "the cached query was dropped too"
    );
    // The old ETag no longer matches: the new body, not a 304.
    let old = before.header("etag").expect("an ETag");
    let revalidated = fetch(address, "/users/42", &[("if-none-match", old)]).await;
    assert_eq!(revalidated.status, 200);
    assert_eq!(app.user_handler.load(SeqCst), 2);
}

#[tokio::test]
async fn authorization_set_cookie_and_no_store_are_never_cached() {
    let (address, app, _) = start().await;
    for _ in 0..2 {
        let reply = fetch(address, "/other", &[("authorization", "Bearer t")]).await;
        assert_eq!(reply.text(), "other");
    }
    assert_eq!(
        app.other_handler.load(SeqCst),
        2,
        "Authorization: the handler each time"
    );
    for _ in 0..2 {
        let reply = fetch(address, "/cookie", &[]).await;
        assert_eq!(reply.header("set-cookie"), Some("session=abc"));
    }
    assert_eq!(
        app.other_handler.load(SeqCst),
        4,
        "Set-Cookie: the handler each time"
    );
    for _ in 0..2 {
        let reply = fetch(address, "/no-store", &[]).await;
        assert_eq!(reply.text(), "no store");
    }
    assert_eq!(
        app.other_handler.load(SeqCst),
        6,
        "no-store: the handler each time"
    );
    // Without Authorization, the same route is cached.
    fetch(address, "/other", &[]).await;
    fetch(address, "/other", &[]).await;
    assert_eq!(app.other_handler.load(SeqCst), 7);
}

#[tokio::test]
async fn other_methods_pass_through_and_max_age_keeps_its_own_cache_control() {
    let (address, app, _) = start().await;
    let posted = send(address, "POST", "/other", &[], b"").await;
    assert_eq!(posted.status, 405, "not a GET: the router's own answer");
    let first = fetch(address, "/short", &[]).await;
    let second = fetch(address, "/short", &[]).await;
    assert_eq!(second.header("cache-control"), Some("max-age=120"));
    assert_eq!(second.body, first.body);
    assert_eq!(app.other_handler.load(SeqCst), 1);
    let head = send(address, "HEAD", "/short", &[], b"").await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn a_hundred_concurrent_gets_of_a_cold_url_call_the_handler_once() {
    let (address, app, cache) = start().await;
    let requests: Vec<_> = (0..100)
        .map(|_| tokio::spawn(async move { fetch(address, "/slow/7", &[]).await }))
        .collect();
    // Every request has looked the key up and found nothing before the handler may answer:
    // they all wait on the one computation.
    until("100 misses of /slow/{id}", || {
        cache
            .stats()
            .function("http GET /slow/{id}")
            .is_some_and(|row| row.counts.misses == 100)
    })
    .await;
    app.release.add_permits(1_000);
    for request in requests {
        let reply = request.await.expect("the request task");
        assert_eq!((reply.status, reply.text()), (200, "slow 7".to_owned()));
    }
    assert_eq!(app.other_handler.load(SeqCst), 1);
    let row = cache
        .stats()
        .function("http GET /slow/{id}")
        .map(|r| r.counts);
    assert_eq!(row.map(|c| c.coalesced), Some(99));
}
