//! A route's rules over real HTTP, on a manual clock: which query parameters and headers make
//! the key, `Vary`, statuses, a TTL from `max-age`, and stale-while-revalidate.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: failing loudly is the point

mod support;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use cached_query::{Cache, Config, ManualClock};
use cached_query_http::{ResponseCacheLayer, Route};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;
use support::{get as fetch, serve, until};

/// What the handler answers: a status, maybe one more header, a body.
type Reply = (
    StatusCode,
    Option<(header::HeaderName, &'static str)>,
    String,
);

/// Serves one handler at `/page` and `/page/{id}` behind `route`, on a manual clock; the
/// handler's reply is `(status, extra header, body)` from its run number and request headers.
async fn start(
    route: Route,
    reply: fn(usize, &HeaderMap) -> Reply,
) -> (SocketAddr, Arc<AtomicUsize>, ManualClock) {
    let clock = ManualClock::new();
    let cache = Cache::new(Config::new().clock(clock.clone()).ttl_jitter(0.0));
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let handler = move |headers: HeaderMap| {
        let runs = Arc::clone(&counted);
        async move {
            let (status, extra, body) = reply(runs.fetch_add(1, SeqCst), &headers);
            let mut response = (status, body).into_response();
            if let Some((name, value)) = extra {
                response
                    .headers_mut()
                    .insert(name, value.parse().expect("a header value"));
            }
            response
        }
    };
    let app = Router::new()
        .route("/page", get(handler.clone()))
        .route("/page/{id}", get(handler))
        .layer(ResponseCacheLayer::new().cache(cache).route(route));
    (serve(app).await, runs, clock)
}

fn plain(run: usize, _: &HeaderMap) -> Reply {
    (StatusCode::OK, None, format!("run {run}"))
}

#[tokio::test]
async fn chosen_query_parameters_split_the_key_and_others_do_not() {
    let (address, runs, _) = start(Route::new("/page").query(["page"]), plain).await;
    let one = fetch(address, "/page?page=1&utm_source=a", &[]).await;
    assert_eq!(
        fetch(address, "/page?utm_source=b&page=1", &[]).await.body,
        one.body
    );
    assert_eq!(runs.load(SeqCst), 1, "utm_source is not part of the key");
    let two = fetch(address, "/page?page=2", &[]).await;
    assert_ne!(two.body, one.body);
    fetch(address, "/page", &[]).await;
    assert_eq!(runs.load(SeqCst), 3);
}

fn by_language(run: usize, headers: &HeaderMap) -> Reply {
    let language = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none");
    (
        StatusCode::OK,
        Some((header::VARY, "accept-language")),
        format!("{language} {run}"),
    )
}

#[tokio::test]
async fn a_vary_header_in_the_key_is_cached_per_value_and_otherwise_not_at_all() {
    let (address, runs, _) =
        start(Route::new("/page").vary(["Accept-Language"]), by_language).await;
    let fr = fetch(address, "/page", &[("accept-language", "fr")]).await;
    let de = fetch(address, "/page", &[("accept-language", "de")]).await;
    assert_eq!(fr.text(), "fr 0");
    assert_eq!(de.text(), "de 1");
    assert_eq!(
        fetch(address, "/page", &[("accept-language", "fr")])
            .await
            .text(),
        "fr 0"
    );
    assert_eq!(runs.load(SeqCst), 2);
    assert_eq!(fr.header("vary"), Some("accept-language"));

    // The same responses on a route that does not key on the header: never stored.
    let (address, runs, _) = start(Route::new("/page"), by_language).await;
    fetch(address, "/page", &[("accept-language", "fr")]).await;
    fetch(address, "/page", &[("accept-language", "de")]).await;
    assert_eq!(runs.load(SeqCst), 2);
    assert_eq!(
        fetch(address, "/page", &[("accept-language", "fr")])
            .await
            .text(),
        "fr 2"
    );
}

fn not_found(run: usize, _: &HeaderMap) -> Reply {
    (StatusCode::NOT_FOUND, None, format!("missing {run}"))
}

#[tokio::test]
async fn only_the_routes_statuses_are_cached() {
    let (address, runs, _) = start(Route::new("/page/{id}"), not_found).await;
    fetch(address, "/page/1", &[]).await;
    assert_eq!(fetch(address, "/page/1", &[]).await.status, 404);
    assert_eq!(runs.load(SeqCst), 2, "404 is not cached by default");
    let route = Route::new("/page/{id}").statuses([StatusCode::OK, StatusCode::NOT_FOUND]);
    let (address, runs, _) = start(route, not_found).await;
    fetch(address, "/page/1", &[]).await;
    assert_eq!(fetch(address, "/page/1", &[]).await.text(), "missing 0");
    assert_eq!(runs.load(SeqCst), 1);
}

fn five_seconds(run: usize, _: &HeaderMap) -> Reply {
    (
        StatusCode::OK,
        Some((header::CACHE_CONTROL, "public, max-age=5")),
        format!("run {run}"),
    )
}

#[tokio::test]
async fn the_responses_max_age_replaces_the_routes_ttl() {
    let (address, runs, clock) = start(
        Route::new("/page").ttl(Duration::from_secs(60)),
        five_seconds,
    )
    .await;
    fetch(address, "/page", &[]).await;
    clock.advance(Duration::from_secs(4));
    assert_eq!(fetch(address, "/page", &[]).await.text(), "run 0");
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        fetch(address, "/page", &[]).await.text(),
        "run 1",
        "expired after its own 5 s"
    );
    assert_eq!(runs.load(SeqCst), 2);
}

#[tokio::test]
async fn within_stale_while_revalidate_the_old_response_is_served_while_one_request_recomputes() {
    let route = Route::new("/page")
        .ttl(Duration::from_secs(10))
        .stale_while_revalidate(Duration::from_secs(60));
    let (address, runs, clock) = start(route, plain).await;
    assert_eq!(fetch(address, "/page", &[]).await.text(), "run 0");
    clock.advance(Duration::from_secs(11));
    // Expired, inside the window: the old response at once; one background run replaces it.
    assert_eq!(fetch(address, "/page", &[]).await.text(), "run 0");
    until("the background recomputation", || runs.load(SeqCst) == 2).await;
    let mut latest = String::new();
    for _ in 0..1_000 {
        latest = fetch(address, "/page", &[]).await.text();
        if latest == "run 1" {
            break;
        }
    }
    assert_eq!(latest, "run 1");
    assert_eq!(runs.load(SeqCst), 2);
}

/// A body whose size is not known before it is read (as a stream's).
struct UnsizedBody(Option<bytes::Bytes>);

impl http_body::Body for UnsizedBody {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.take().map(|data| Ok(http_body::Frame::data(data))))
    }
}

#[tokio::test]
async fn bodies_too_large_or_of_unknown_size_stream_through_uncached() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = (Arc::clone(&runs), Arc::clone(&runs));
    let app = Router::new()
        .route(
            "/stream",
            get(move || {
                counted.0.fetch_add(1, SeqCst);
                async { axum::body::Body::new(UnsizedBody(Some("streamed body".into()))) }
            }),
        )
        .route(
            "/large",
            get(move || {
                counted.1.fetch_add(1, SeqCst);
                async { "a body of more than sixteen bytes" }
            }),
        )
        .layer(
            ResponseCacheLayer::new()
                .cache(Cache::new(Config::new()))
                .route(Route::new("/stream"))
                .route(Route::new("/large").max_body_bytes(16)),
        );
    let address = serve(app).await;
    for _ in 0..2 {
        assert_eq!(fetch(address, "/stream", &[]).await.text(), "streamed body");
        let large = fetch(address, "/large", &[]).await;
        assert_eq!(large.text(), "a body of more than sixteen bytes");
        assert!(large.header("age").is_none(), "not from the cache");
    }
    assert_eq!(runs.load(SeqCst), 4, "each request ran its handler");
}
