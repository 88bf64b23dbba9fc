//! The operator's page in a real headless browser (issue 17): Debian's chromium driven by
//! chromedriver through the W3C WebDriver protocol (plain HTTP and JSON), against the web
//! service example served on a loopback port. Checks that the page loads with no console
//! errors, lists the example's functions, and that its chart updates after traffic; writes a
//! screenshot to `target/operator-page.png`.
//!
//! `scripts/test.sh` installs chromium and chromium-driver when missing; where neither is
//! found the test says why and passes without checking anything.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test crate: failing loudly is the point

#[path = "../examples/web_service/app.rs"]
mod app;

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// One HTTP/1.1 exchange on a connection of its own; the body as JSON, or `Null`.
fn exchange(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let raw = read_response(&mut stream);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").expect("a complete response");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// The response's bytes: up to its `Content-Length` when it has one (chromedriver keeps the
/// connection open whatever `Connection: close` says), else up to the end of the stream.
fn read_response(stream: &mut TcpStream) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse::<usize>().ok());
            if length.is_some_and(|length| raw.len() >= end + 4 + length) {
                return raw;
            }
        }
        match stream.read(&mut buffer).unwrap() {
            0 => return raw,
            read => raw.extend_from_slice(&buffer[..read]),
        }
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        body.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    body
}

/// chromedriver, started on a free port, killed when dropped.
struct Driver {
    process: Child,
    addr: SocketAddr,
    session: String,
}

impl Driver {
    fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut driver = Driver {
            process,
            addr,
            session: String::new(),
        };
        wait_for("chromedriver to listen", || {
            TcpStream::connect(addr).is_ok()
        });
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1000"]
            }
        }}});
        let (status, created) = exchange(addr, "POST", "/session", Some(&capabilities));
        assert_eq!(status, 200, "a browser session: {created}");
        driver.session = created["value"]["sessionId"].as_str().unwrap().to_owned();
        driver
    }

    fn command(&self, method: &str, what: &str, body: Option<&Value>) -> Value {
        let path = format!("/session/{}/{what}", self.session);
        let (status, reply) = exchange(self.addr, method, &path, body);
        assert_eq!(status, 200, "{method} {what}: {reply}");
        reply["value"].clone()
    }

    fn script(&self, script: &str) -> Value {
        self.command(
            "POST",
            "execute/sync",
            Some(&json!({ "script": script, "args": [] })),
        )
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = exchange(
                self.addr,
                "DELETE",
                &format!("/session/{}", self.session),
                None,
            );
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Waits for `condition`, checking every 50 ms, for at most 30 s (a deadline for a broken
/// test, not a measurement).
fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..600 {
        if condition() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("never happened: {what}");
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let sextets: Vec<u8> = text.bytes().filter_map(value).collect();
    let mut bytes = Vec::with_capacity(sextets.len() * 3 / 4);
    for chunk in sextets.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, s)| n | (u32::from(*s) << (18 - 6 * i)));
        let take = chunk.len().saturating_sub(1);
        bytes.extend_from_slice(&n.to_be_bytes()[1..1 + take]);
    }
    bytes
}

/// Serves the example on a free port, on a runtime of its own thread.
fn serve_example() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let db = app::Db::seeded(100).unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app::app(db, None)).await.unwrap();
        });
    });
    addr
}

fn traffic(addr: SocketAddr, requests: u32) {
    for i in 0..requests {
        let id = 1 + i % 3;
        assert_eq!(exchange(addr, "GET", &format!("/users/{id}"), None).0, 200);
        let (status, _) = exchange(addr, "GET", &format!("/users/{id}/card"), None);
        assert_eq!(status, 200);
    }
}

fn number(value: &Value) -> u64 {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .or(value.as_u64())
        .unwrap_or(0)
}

#[test]
fn the_operator_page_in_a_headless_browser() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        eprintln!(
            "SKIPPED: {CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium \
             chromium-driver; scripts/test.sh does it where it can)"
        );
        return;
    }
    let addr = serve_example();
    wait_for("the example to listen", || TcpStream::connect(addr).is_ok());
    traffic(addr, 3);

    let driver = Driver::start();
    let page = format!("http://{addr}/ops?every=100");
    driver.command("POST", "url", Some(&json!({ "url": page })));
    wait_for("two samples on the page", || {
        number(&driver.script("return document.body.dataset.samples")) >= 2
    });

    // The example's functions: the cached query and the cached route.
    let names = driver.script(
        "return [...document.querySelectorAll('#by-traffic tr')].map(row => row.dataset.name)",
    );
    let names: Vec<&str> = names
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(names.contains(&"users.get_user"), "{names:?}");
    assert!(names.contains(&"http GET /users/{id}/card"), "{names:?}");

    // Traffic moves the chart: a new sample with calls in it, and other pixels.
    let samples_with_traffic =
        number(&driver.script("return document.body.dataset.trafficSamples"));
    let pixels = driver.script("return document.getElementById('chart').toDataURL()");
    traffic(addr, 20);
    wait_for("a sample with the new traffic", || {
        number(&driver.script("return document.body.dataset.trafficSamples")) > samples_with_traffic
    });
    wait_for("the chart to be redrawn with it", || {
        driver.script("return document.getElementById('chart').toDataURL()") != pixels
    });
    let hits = driver.script("return document.getElementById('hits').textContent");
    assert!(number(&hits) > 0, "{hits}");

    let screenshot = driver.command("GET", "screenshot", None);
    let png = base64_decode(screenshot.as_str().unwrap());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("operator-page.png"), &png).unwrap();

    // No console errors (chromedriver's browser log, every level kept).
    let log = driver.command("POST", "se/log", Some(&json!({ "type": "browser" })));
    let errors: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["level"] == "SEVERE")
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

#[test]
fn base64_decodes_padded_and_unpadded_text() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("aGVsbG8h"), b"hello!");
    assert_eq!(base64_decode("aGk="), b"hi");
}
