//! The web service: its database, its cached functions, its handlers and its router.
//!
//! Shared by the example's `main.rs` and by `tests/web_service.rs`, which serves [`app`] on a
//! free loopback port and drives it over HTTP.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cached_query::{Counts, Stats, cached_query};
use cached_query_http::{Operator, ResponseCacheLayer, Route};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct User {
    id: i64,
    name: String,
    email: String,
}

/// The body of `PUT /users/{id}`.
#[derive(Debug, Deserialize)]
pub(crate) struct UserUpdate {
    name: String,
    email: String,
}

#[derive(Debug)]
pub(crate) enum DbError {
    NotFound(i64),
    Sqlite(rusqlite::Error),
    /// The blocking task panicked or was cancelled.
    Task(tokio::task::JoinError),
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Sqlite(e)
    }
}

/// An SQLite database in memory, behind one connection used from tokio's blocking pool (a
/// production service would use a file and a pool of connections; the caching is the same).
#[derive(Clone)]
pub(crate) struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// A new in-memory database holding users `1..=users`, named `User {id}`.
    pub(crate) fn seeded(users: i64) -> rusqlite::Result<Db> {
        let mut conn = Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE TABLE users (
                 id    INTEGER PRIMARY KEY,
                 name  TEXT NOT NULL,
                 email TEXT NOT NULL
             );",
        )?;
        let tx = conn.transaction()?;
        {
            let mut insert =
                tx.prepare("INSERT INTO users (id, name, email) VALUES (?1, ?2, ?3)")?;
            for id in 1..=users {
                insert.execute(params![
                    id,
                    format!("User {id}"),
                    format!("user{id}@example.com")
                ])?;
            }
        }
        tx.commit()?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn call<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&conn)
        })
        .await
        .map_err(DbError::Task)?
    }

    async fn load_user(&self, id: i64) -> Result<User, DbError> {
        self.call(move |conn| {
            conn.prepare_cached("SELECT id, name, email FROM users WHERE id = ?1")?
                .query_row([id], user_from_row)
                .optional()?
                .ok_or(DbError::NotFound(id))
        })
        .await
    }

    async fn update_user(&self, id: i64, update: UserUpdate) -> Result<User, DbError> {
        self.call(move |conn| {
            conn.prepare_cached(
                "UPDATE users SET name = ?2, email = ?3 WHERE id = ?1 RETURNING id, name, email",
            )?
            .query_row(params![id, update.name, update.email], user_from_row)
            .optional()?
            .ok_or(DbError::NotFound(id))
        })
        .await
    }
}

fn user_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        name: row.get(1)?,
        email: row.get(2)?,
    })
}

/// The cached read: keyed by `id` (the database handle is skipped), tagged `user:{id}` so a
/// write invalidates exactly this user's entries. `name` keeps the metric label stable.
#[cached_query(name = "users.get_user", ttl = "5m", tags = ["users", "user:{id}"], skip(db))]
async fn get_user(db: &Db, id: i64) -> Result<User, DbError> {
    db.load_user(id).await
}

/// A handler's failure, answered as `{"error": "..."}` with its status.
#[derive(Debug)]
pub(crate) struct ApiError(StatusCode, String);

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound(id) => ApiError(StatusCode::NOT_FOUND, format!("no user {id}")),
            DbError::Sqlite(e) => ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            DbError::Task(e) => ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

/// `GET /users/{id}`: a cached read.
async fn read_user(State(db): State<Db>, Path(id): Path<i64>) -> Result<Json<User>, ApiError> {
    Ok(Json(get_user(&db, id).await?))
}

/// `PUT /users/{id}`: the write, then the invalidation of the user's tag. When the
/// invalidation returns, no request is served the old row.
async fn write_user(
    State(db): State<Db>,
    Path(id): Path<i64>,
    Json(update): Json<UserUpdate>,
) -> Result<Json<User>, ApiError> {
    let user = db.update_user(id, update).await?;
    cached_query::invalidate_tag(&format!("user:{id}"))
        .await
        .map_err(|e| {
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("user {id} written, but its cache invalidation is incomplete: {e}"),
            )
        })?;
    Ok(Json(user))
}

/// `GET /stats`: the statistics as JSON.
async fn stats() -> Json<Stats> {
    Json(cached_query::stats())
}

/// `GET /metrics`: the statistics in Prometheus' text format.
async fn metrics() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render_metrics(&cached_query::stats()),
    )
}

/// `GET /users/{id}/card`: an HTML fragment rendered from the cached read. The response
/// layer caches it whole (with an ETag), under the same `user:{id}` tag as the read, so one
/// write drops both.
async fn user_card(State(db): State<Db>, Path(id): Path<i64>) -> Result<Html<String>, ApiError> {
    let user = get_user(&db, id).await?;
    Ok(Html(format!(
        "<div class=\"user\"><h2>{}</h2><a href=\"mailto:{}\">{}</a></div>",
        escape_html(&user.name),
        escape_html(&user.email),
        escape_html(&user.email)
    )))
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The service's routes: the cached reads and the write, `/users/{id}/card` behind the
/// response cache, and the operator's router at `/ops`, whose invalidation endpoints take
/// `ops_token` (and do not exist without one).
pub(crate) fn app(db: Db, ops_token: Option<String>) -> Router {
    let responses = ResponseCacheLayer::new().route(
        Route::new("/users/{id}/card")
            .ttl(Duration::from_secs(300))
            .tags(["users", "user:{id}"]),
    );
    let mut operator = Operator::new();
    if let Some(token) = ops_token {
        operator = operator.token(token);
    }
    Router::new()
        .route("/users/{id}", get(read_user).put(write_user))
        .route("/users/{id}/card", get(user_card))
        .route("/stats", get(stats))
        .route("/metrics", get(metrics))
        .with_state(db)
        .layer(responses)
        .nest("/ops", operator.into_router())
}

/// One metric family: its name, `# HELP` text, `# TYPE` and value per function.
type Family = (&'static str, &'static str, &'static str, fn(&Counts) -> u64);

const FAMILIES: &[Family] = &[
    (
        "cached_query_hits_total",
        "Calls answered from memory.",
        "counter",
        |c| c.hits,
    ),
    (
        "cached_query_misses_total",
        "Calls that found nothing usable in memory.",
        "counter",
        |c| c.misses,
    ),
    (
        "cached_query_remote_hits_total",
        "Misses answered by the shared store.",
        "counter",
        |c| c.remote_hits,
    ),
    (
        "cached_query_coalesced_total",
        "Misses that waited for an identical call already running.",
        "counter",
        |c| c.coalesced,
    ),
    (
        "cached_query_errors_total",
        "Calls whose function returned Err (never cached).",
        "counter",
        |c| c.errors,
    ),
    (
        "cached_query_not_cached_total",
        "Calls whose result was not cached for another reason (None).",
        "counter",
        |c| c.not_cached,
    ),
    (
        "cached_query_bypassed_total",
        "Calls run uncached inside bypass.",
        "counter",
        |c| c.bypassed,
    ),
    (
        "cached_query_refreshed_total",
        "Calls recomputed by refresh.",
        "counter",
        |c| c.refreshed,
    ),
    (
        "cached_query_stale_total",
        "Entries found but invalidated by a tag since they were computed.",
        "counter",
        |c| c.stale,
    ),
    (
        "cached_query_key_errors_total",
        "Calls whose arguments could not be encoded into a key.",
        "counter",
        |c| c.key_errors,
    ),
    (
        "cached_query_reentrant_total",
        "Calls of a key from inside its own computation.",
        "counter",
        |c| c.reentrant,
    ),
    (
        "cached_query_evictions_total",
        "Entries evicted to stay within the capacity.",
        "counter",
        |c| c.evictions,
    ),
    (
        "cached_query_expirations_total",
        "Entries removed because their TTL ran out.",
        "counter",
        |c| c.expirations,
    ),
    (
        "cached_query_entries",
        "Entries currently held.",
        "gauge",
        |c| c.entries,
    ),
    (
        "cached_query_weighted_size_bytes",
        "Bytes currently charged against the capacity.",
        "gauge",
        |c| c.weighted_size,
    ),
];

/// The statistics in Prometheus' text exposition format (version 0.0.4): one family per
/// counter, one sample per cached function, labelled `function="<its name>"`.
pub(crate) fn render_metrics(stats: &Stats) -> String {
    let mut out = String::new();
    // Writing to a `String` cannot fail.
    let _ = write_metrics(&mut out, stats);
    out
}

fn write_metrics(out: &mut String, stats: &Stats) -> fmt::Result {
    for (name, help, kind, value) in FAMILIES {
        writeln!(out, "# HELP {name} {help}")?;
        writeln!(out, "# TYPE {name} {kind}")?;
        for function in &stats.functions {
            let label = escape_label_value(&function.name);
            writeln!(
                out,
                "{name}{{function=\"{label}\"}} {}",
                value(&function.counts)
            )?;
        }
    }
    writeln!(
        out,
        "# HELP cached_query_tag_cells Tag cells held by the registry."
    )?;
    writeln!(out, "# TYPE cached_query_tag_cells gauge")?;
    writeln!(out, "cached_query_tag_cells {}", stats.tag_cells)
}

/// A label value as the text format wants it: `\`, `"` and line feeds escaped.
pub(crate) fn escape_label_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}
