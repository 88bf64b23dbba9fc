//! A web service whose handlers call cached functions: axum in front of an SQLite database.
//!
//! ```sh
//! cargo run --example web_service                        # listens on 127.0.0.1:3000
//! cargo run --example web_service -- --addr 127.0.0.1:8080
//! WEB_SERVICE_ADDR=0.0.0.0:8080 cargo run --example web_service
//! ```
//!
//! | route | what it does |
//! |---|---|
//! | `GET /users/{id}` | a cached read of one user (`users.get_user`, tagged `user:{id}`) |
//! | `GET /users/{id}/card` | HTML from that read, the whole response cached by `cached-query-http`'s layer (ETag, `304`), tagged `user:{id}` too |
//! | `PUT /users/{id}` | writes `{"name": .., "email": ..}`, then `invalidate_tag("user:{id}")`: drops the read and the card |
//! | `GET /stats` | `cached_query::stats()` as JSON |
//! | `GET /metrics` | the same counters in Prometheus' text format |
//! | `GET /ops/` | the operator's page (hit ratio over time, top functions); `/ops/stats`, `/ops/metrics`, `/ops/health` |
//! | `POST /ops/invalidate/tag/{tag}` | only when `OPS_TOKEN` is set, with `Authorization: Bearer $OPS_TOKEN` |
//!
//! The router is built by `app::app` (in `app.rs`), which `tests/web_service.rs` serves on a
//! free port and drives over HTTP.

mod app;

use std::process::ExitCode;

const DEFAULT_ADDR: &str = "127.0.0.1:3000";
const USERS: i64 = 1_000;

/// The listen address: `--addr ADDR` (or `--addr=ADDR`), else `WEB_SERVICE_ADDR`, else
/// 127.0.0.1:3000. `None` after printing the usage for `--help`.
fn listen_addr() -> Result<Option<String>, String> {
    let mut addr = std::env::var("WEB_SERVICE_ADDR").ok();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--addr" {
            addr = Some(
                args.next()
                    .ok_or("--addr needs a value, like 127.0.0.1:3000")?,
            );
        } else if let Some(value) = arg.strip_prefix("--addr=") {
            addr = Some(value.to_string());
        } else if arg == "-h" || arg == "--help" {
            println!(
                "usage: web_service [--addr HOST:PORT]\n\
                 The address defaults to $WEB_SERVICE_ADDR, then {DEFAULT_ADDR}."
            );
            return Ok(None);
        } else {
            return Err(format!("unknown argument {arg:?} (try --help)"));
        }
    }
    Ok(Some(addr.unwrap_or_else(|| DEFAULT_ADDR.to_string())))
}

#[tokio::main]
async fn main() -> ExitCode {
    let addr = match listen_addr() {
        Ok(Some(addr)) => addr,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let db = match app::Db::seeded(USERS) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("error: cannot create the database: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let url = match listener.local_addr() {
        Ok(local) => format!("http://{local}"),
        Err(_) => format!("http://{addr}"),
    };
    println!("listening on {url} with users 1..={USERS}; try:");
    println!("  curl {url}/users/42");
    println!(
        "  curl -X PUT {url}/users/42 -H 'content-type: application/json' \\\n       \
         -d '{{\"name\":\"Ada Lovelace\",\"email\":\"ada@example.com\"}}'"
    );
    println!("  curl -i {url}/users/42/card");
    println!("  curl {url}/stats");
    println!("  curl {url}/metrics");
    println!("  open {url}/ops/ (the operator's page)");
    let ops_token = std::env::var("OPS_TOKEN").ok().filter(|t| !t.is_empty());
    if ops_token.is_some() {
        println!(
            "  curl -X POST {url}/ops/invalidate/tag/user:42 -H \"authorization: Bearer $OPS_TOKEN\""
        );
    }
    if let Err(e) = axum::serve(listener, app::app(db, ops_token)).await {
        eprintln!("error: the server stopped: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
