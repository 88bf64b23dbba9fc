//! The web service example (`examples/web_service`) over real HTTP: its router is served on a
//! free loopback port and driven with plain HTTP/1.1 requests. Checks that a first read is a
//! miss and a second a hit (through `/stats`), that a write changes what the next read returns,
//! and what `/metrics` renders. One test drives the whole sequence, so the counters it reads
//! move only by its own requests.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: failing loudly is the point

#[path = "../examples/web_service/app.rs"]
mod app;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Every socket operation gives up after this long, and the whole test after `TEST_TIMEOUT`.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
const TEST_TIMEOUT: Duration = Duration::from_secs(60);

struct Response {
    status: u16,
    content_type: String,
    body: String,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// One request on a connection of its own (`Connection: close`), with std's blocking socket on
/// tokio's blocking pool: no HTTP client crate needed.
async fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> Response {
    let request = match body {
        Some(body) => format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
        None => format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    };
    let what = format!("{method} {path}");
    tokio::task::spawn_blocking(move || exchange(addr, &request))
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

fn exchange(addr: SocketAddr, request: &str) -> Result<Response, String> {
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let text = String::from_utf8(raw.to_vec()).map_err(|e| e.to_string())?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no end of headers in {text:?}"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut content_type = String::new();
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-type") {
            content_type = value.to_string();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_string()
    };
    Ok(Response {
        status,
        content_type,
        body,
    })
}

/// Decodes a `Transfer-Encoding: chunked` body (hyper uses it when a body's length is unknown).
fn dechunk(mut rest: &str) -> Result<String, String> {
    let mut body = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").ok_or("truncated chunk size")?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| format!("bad chunk size {size:?}: {e}"))?;
        if size == 0 {
            return Ok(body);
        }
        let chunk = after.get(..size).ok_or("truncated chunk")?;
        body.push_str(chunk);
        rest = after.get(size + 2..).ok_or("truncated chunk end")?;
    }
}

/// The counts of the cached read, as `/stats` reports them (zeros before its first call).
async fn get_user_counts(addr: SocketAddr) -> (u64, u64, u64, u64) {
    let stats = http(addr, "GET", "/stats", None).await;
    assert_eq!(stats.status, 200, "{}", stats.body);
    assert!(
        stats.content_type.starts_with("application/json"),
        "{}",
        stats.content_type
    );
    let stats = stats.json();
    assert!(stats["total"]["hits"].is_u64(), "no total in {stats}");
    let functions = stats["functions"].as_array().cloned().unwrap_or_default();
    let Some(row) = functions.iter().find(|f| f["name"] == "users.get_user") else {
        return (0, 0, 0, 0);
    };
    let count = |field: &str| {
        row["counts"][field]
            .as_u64()
            .unwrap_or_else(|| panic!("{field} in {row}"))
    };
    (
        count("hits"),
        count("misses"),
        count("stale"),
        count("errors"),
    )
}

async fn end_to_end() {
    let db = app::Db::seeded(100).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app::app(db, None)).await });

    let (hits, misses, stale, errors) = get_user_counts(addr).await;

    // A first read runs the query: a miss.
    let first = http(addr, "GET", "/users/7", None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        first.content_type.starts_with("application/json"),
        "{}",
        first.content_type
    );
    assert_eq!(first.json()["name"], "User 7");
    assert_eq!(
        get_user_counts(addr).await,
        (hits, misses + 1, stale, errors)
    );

    // The same read again is served from the cache: a hit, the same body.
    let second = http(addr, "GET", "/users/7", None).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.body, first.body);
    assert_eq!(
        get_user_counts(addr).await,
        (hits + 1, misses + 1, stale, errors)
    );

    // A write answers the new row and invalidates `user:7`...
    let update = r#"{"name":"Ada Lovelace","email":"ada@example.com"}"#;
    let put = http(addr, "PUT", "/users/7", Some(update)).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.json()["name"], "Ada Lovelace");

    // ...so the next read finds its entry stale, runs the query and returns the new value.
    let third = http(addr, "GET", "/users/7", None).await;
    assert_eq!(third.status, 200, "{}", third.body);
    assert_eq!(third.json()["name"], "Ada Lovelace");
    assert_eq!(third.json()["email"], "ada@example.com");
    assert_eq!(
        get_user_counts(addr).await,
        (hits + 1, misses + 2, stale + 1, errors)
    );
    let fourth = http(addr, "GET", "/users/7", None).await;
    assert_eq!(fourth.body, third.body);
    assert_eq!(
        get_user_counts(addr).await,
        (hits + 2, misses + 2, stale + 1, errors)
    );

    // Other users' entries are untouched by that invalidation... (8 is cached, then read again)
    assert_eq!(http(addr, "GET", "/users/8", None).await.status, 200);
    assert_eq!(http(addr, "GET", "/users/8", None).await.status, 200);
    assert_eq!(
        get_user_counts(addr).await,
        (hits + 3, misses + 3, stale + 1, errors)
    );

    // Errors: a missing user is a 404 and never cached; a bad id or body is refused by axum.
    for _ in 0..2 {
        let missing = http(addr, "GET", "/users/100000", None).await;
        assert_eq!(missing.status, 404, "{}", missing.body);
        assert_eq!(missing.json()["error"], "no user 100000");
    }
    assert_eq!(
        get_user_counts(addr).await,
        (hits + 3, misses + 5, stale + 1, errors + 2)
    );
    assert_eq!(
        http(addr, "PUT", "/users/100000", Some(update))
            .await
            .status,
        404
    );
    assert_eq!(http(addr, "GET", "/users/seven", None).await.status, 400);
    let bad_body = http(addr, "PUT", "/users/7", Some(r#"{"name":1}"#)).await;
    assert!(
        bad_body.status == 400 || bad_body.status == 422,
        "{}",
        bad_body.status
    );
    assert_eq!(
        http(addr, "GET", "/users/7", None).await.json()["name"],
        "Ada Lovelace"
    );

    // The Prometheus text: HELP and TYPE lines, one sample per function, the same counts.
    let (hits, misses, stale, errors) = get_user_counts(addr).await;
    let metrics = http(addr, "GET", "/metrics", None).await;
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    assert!(
        metrics
            .content_type
            .starts_with("text/plain; version=0.0.4"),
        "{}",
        metrics.content_type
    );
    let text = &metrics.body;
    for expected in [
        "# HELP cached_query_hits_total Calls answered from memory.".to_string(),
        "# TYPE cached_query_hits_total counter".to_string(),
        "# TYPE cached_query_misses_total counter".to_string(),
        "# TYPE cached_query_entries gauge".to_string(),
        format!("cached_query_hits_total{{function=\"users.get_user\"}} {hits}"),
        format!("cached_query_misses_total{{function=\"users.get_user\"}} {misses}"),
        format!("cached_query_stale_total{{function=\"users.get_user\"}} {stale}"),
        format!("cached_query_errors_total{{function=\"users.get_user\"}} {errors}"),
        // users 7 and 8 are held.
        "cached_query_entries{function=\"users.get_user\"} 2".to_string(),
    ] {
        assert!(
            text.lines().any(|line| line == expected),
            "no line {expected:?} in:\n{text}"
        );
    }
    assert_well_formed(text);

    // The card is cached whole by the response layer under the same tag: one write drops it.
    let card = http(addr, "GET", "/users/9/card", None).await;
    assert_eq!(card.status, 200, "{}", card.body);
    assert!(card.body.contains("<h2>User 9</h2>"), "{}", card.body);
    assert_eq!(
        http(addr, "GET", "/users/9/card", None).await.body,
        card.body
    );
    let renamed = r#"{"name":"Grace <Hopper>","email":"grace@example.com"}"#;
    assert_eq!(
        http(addr, "PUT", "/users/9", Some(renamed)).await.status,
        200
    );
    let card = http(addr, "GET", "/users/9/card", None).await;
    assert!(
        card.body.contains("<h2>Grace &lt;Hopper&gt;</h2>"),
        "{}",
        card.body
    );

    server.abort();
}

/// Every sample follows the `# HELP` and `# TYPE` lines of its family, has a numeric value,
/// and no family appears twice.
fn assert_well_formed(text: &str) {
    let mut families = Vec::new();
    let mut typed = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(!families.contains(&name), "family {name} twice");
            families.push(name);
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert_eq!(Some(&name), families.last(), "TYPE without HELP: {line}");
            assert!(kind == "counter" || kind == "gauge", "{line}");
            typed = Some(name);
        } else {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let name = series.split('{').next().unwrap();
            assert_eq!(Some(name), typed, "sample outside its family: {line}");
            value
                .parse::<u64>()
                .unwrap_or_else(|e| panic!("{line}: {e}"));
        }
    }
    assert!(families.len() >= 10, "{families:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_service_over_http() {
    tokio::time::timeout(TEST_TIMEOUT, end_to_end())
        .await
        .expect("the web service test did not finish in time");
}

#[test]
fn metric_label_values_are_escaped() {
    assert_eq!(app::escape_label_value("users.get_user"), "users.get_user");
    assert_eq!(
        app::escape_label_value("a\\b\"c\nd<T>::f"),
        "a\\\\b\\\"c\\nd<T>::f"
    );
}

#[test]
fn metrics_without_any_call_are_headers_only() {
    let text = app::render_metrics(&cached_query::Stats::default());
    assert!(text.contains("# TYPE cached_query_hits_total counter"));
    assert!(!text.contains("{function="));
    assert_well_formed(&text);
}
