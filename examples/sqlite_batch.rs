//! A batch query against a real SQLite database: `#[cached_query(batch)]` (issue 14).
//!
//! ```sh
//! cargo run --example sqlite_batch
//! ```
//!
//! A feed shows pages of 200 users, and each page shares three quarters of its users with the
//! page before. `get_users(&db, ids)` caches each user on its own and runs its query
//! (`SELECT .. WHERE id IN (..)`) once per call with the ids that are not cached, so a page
//! costs one query for 50 users instead of 200. The example prints, page by page, how many ids
//! each query asked for; then the same feed timed three ways (uncached, one cached call per
//! user, one cached batch call per page); then what an update and its invalidation do, and
//! single-user requests merged into one query (`merge`). It exits with 1 if a page is wrong.
//!
//! SQLite calls block, so each query runs on tokio's blocking pool (`spawn_blocking`).

use cached_query::{Cache, Config, cached_query};
use rusqlite::{Connection, params, params_from_iter};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USERS: i64 = 10_000;
const PAGE: i64 = 200;
/// Each page starts this many ids after the previous one: 150 of its 200 users were on it.
const STEP: i64 = 50;
const PAGES: i64 = 40;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct User {
    id: i64,
    name: String,
}

#[derive(Debug)]
enum DbError {
    Sqlite(rusqlite::Error),
    /// The blocking task panicked or was cancelled.
    Task(tokio::task::JoinError),
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::Sqlite(e) => write!(f, "sqlite: {e}"),
            DbError::Task(e) => write!(f, "database task: {e}"),
        }
    }
}

impl std::error::Error for DbError {}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Sqlite(e)
    }
}

/// One in-memory SQLite connection, used from tokio's blocking pool, and what was asked of it.
#[derive(Clone)]
struct Db {
    conn: Arc<Mutex<Connection>>,
    /// How many ids each query asked for, in order.
    queries: Arc<Mutex<Vec<usize>>>,
    rows: Arc<AtomicUsize>,
}

impl Db {
    fn open() -> Result<Db, DbError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);")?;
        let tx = conn.unchecked_transaction()?;
        {
            let mut insert = tx.prepare("INSERT INTO users (id, name) VALUES (?1, ?2)")?;
            for id in 1..=USERS {
                insert.execute(params![id, format!("User {id}")])?;
            }
        }
        tx.commit()?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
            queries: Arc::default(),
            rows: Arc::default(),
        })
    }

    /// `SELECT id, name FROM users WHERE id IN (..)`, on the blocking pool.
    async fn load_many(&self, ids: Vec<i64>) -> Result<Vec<User>, DbError> {
        let queries = Arc::clone(&self.queries);
        let rows = Arc::clone(&self.rows);
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            queries
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(ids.len());
            let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            let marks = vec!["?"; ids.len()].join(",");
            let sql = format!("SELECT id, name FROM users WHERE id IN ({marks})");
            let mut select = conn.prepare(&sql)?;
            let users = select
                .query_map(params_from_iter(&ids), |row| {
                    Ok(User {
                        id: row.get(0)?,
                        name: row.get(1)?,
                    })
                })?
                .collect::<Result<Vec<User>, _>>()?;
            rows.fetch_add(users.len(), Relaxed);
            Ok(users)
        })
        .await
        .map_err(DbError::Task)?
    }

    async fn rename(&self, id: i64, name: &str) -> Result<(), DbError> {
        let conn = Arc::clone(&self.conn);
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            conn.execute(
                "UPDATE users SET name = ?2 WHERE id = ?1",
                params![id, name],
            )?;
            Ok(())
        })
        .await
        .map_err(DbError::Task)?
    }

    fn queries(&self) -> Vec<usize> {
        self.queries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Each user cached on its own for 5 minutes, tagged `users` and `user:{id}`; the query runs
/// with the ids that are not cached, and an id it does not find is cached as absent.
#[cached_query(batch, ttl = "5m", tags = ["users", "user:{id}"], skip(db))]
async fn get_users(db: &Db, ids: Vec<i64>) -> Result<HashMap<i64, User>, DbError> {
    let users = db.load_many(ids).await?;
    Ok(users.into_iter().map(|user| (user.id, user)).collect())
}

/// The same user, one at a time: what the feed would call 200 times per page without `batch`.
#[cached_query(ttl = "5m", tags = ["users", "user:{id}"], skip(db))]
async fn get_user(db: &Db, id: i64) -> Result<Option<User>, DbError> {
    Ok(db.load_many(vec![id]).await?.pop())
}

/// Single-user requests arriving together, answered by one query per 2 ms window.
#[cached_query(batch, merge = "2ms", ttl = "5m", skip(db))]
async fn get_users_merged(db: Db, ids: Vec<i64>) -> Result<HashMap<i64, User>, DbError> {
    let users = db.load_many(ids).await?;
    Ok(users.into_iter().map(|user| (user.id, user)).collect())
}

fn page(n: i64) -> Vec<i64> {
    let first = 1 + n * STEP;
    (first..first + PAGE).collect()
}

fn ms(d: Duration) -> String {
    format!("{:>8.2} ms", d.as_secs_f64() * 1e3)
}

/// The feed through the batch function, page by page; checks each page's answer.
async fn feed_by_batch(db: &Db) -> Result<Duration, Failure> {
    let started = Instant::now();
    for n in 0..PAGES {
        let users = get_users(db, page(n)).await?;
        if users.len() != PAGE as usize
            || users.values().any(|u| u.name != format!("User {}", u.id))
        {
            return Err(format!("page {n} is wrong: {} users", users.len()).into());
        }
    }
    Ok(started.elapsed())
}

/// The feed through the single-user function, 200 calls per page.
async fn feed_by_user(db: &Db) -> Result<Duration, DbError> {
    let started = Instant::now();
    for n in 0..PAGES {
        for id in page(n) {
            get_user(db, id).await?;
        }
    }
    Ok(started.elapsed())
}

type Failure = Box<dyn std::error::Error>;

async fn run() -> Result<(), Failure> {
    let db = Db::open()?;
    println!(
        "{USERS} users; a feed of {PAGES} pages of {PAGE}, each sharing {} users with the one before\n",
        PAGE - STEP
    );
    show_pages(&db).await?;
    time_the_feed(&db).await?;
    update_one_user(&db).await?;
    merge_single_requests(&db).await
}

/// Page by page, in an instance of its own: what each query asked for.
async fn show_pages(db: &Db) -> Result<(), DbError> {
    Cache::new(Config::new())
        .scope(async {
            for n in 0..3 {
                let before = db.queries().len();
                let users = get_users(db, page(n)).await?;
                let asked: Vec<usize> = db.queries()[before..].to_vec();
                println!(
                    "page {n} (ids {}..={}): {} users, queries asked for {asked:?} ids",
                    page(n)[0],
                    page(n)[PAGE as usize - 1],
                    users.len()
                );
            }
            let before = db.queries().len();
            get_users(db, page(2)).await?;
            println!("page 2 again: {} queries", db.queries().len() - before);
            Ok(())
        })
        .await
}

/// The whole feed, timed three ways (each cached way from an empty cache, then again).
async fn time_the_feed(db: &Db) -> Result<(), Failure> {
    let uncached = cached_query::bypass(feed_by_batch(db)).await?;
    let (user_cache, batch_cache) = (Cache::new(Config::new()), Cache::new(Config::new()));
    let mut lines = vec![(
        "uncached, one query per page".to_owned(),
        uncached,
        PAGES as usize,
    )];
    for way in ["from empty", "warm"] {
        let queries = db.queries().len();
        let by_user = user_cache.scope(feed_by_user(db)).await?;
        let user_queries = db.queries().len() - queries;
        let queries = db.queries().len();
        let by_batch = batch_cache.scope(feed_by_batch(db)).await?;
        let batch_queries = db.queries().len() - queries;
        lines.push((format!("one call per user, {way}"), by_user, user_queries));
        lines.push((
            format!("one batch per page, {way}"),
            by_batch,
            batch_queries,
        ));
    }
    let reads = PAGES * PAGE;
    println!("\nthe feed ({PAGES} pages, {reads} user reads):");
    for (way, time, queries) in lines {
        let per_user = time.as_secs_f64() * 1e6 / reads as f64;
        println!(
            "  {way:<34} {} {per_user:>8.2} µs/user {queries:>6} queries",
            ms(time)
        );
    }
    if cfg!(debug_assertions) {
        println!("  (a debug build: `--release` makes every line faster)");
    }
    Ok(())
}

/// A write, and its invalidation: only that user is loaded again.
async fn update_one_user(db: &Db) -> Result<(), Failure> {
    let cache = Cache::new(Config::new());
    cache.scope(get_users(db, page(0))).await?;
    db.rename(42, "Ada Lovelace").await?;
    cache.invalidate_tag("user:42").await?;
    let before = db.queries().len();
    let users = cache.scope(get_users(db, page(0))).await?;
    println!("\nUPDATE users SET name = 'Ada Lovelace' WHERE id = 42; invalidate_tag(\"user:42\")");
    println!(
        "page 0 again: user 42 is {:?}, queries asked for {:?} ids",
        users[&42].name,
        &db.queries()[before..]
    );
    if users[&42].name != "Ada Lovelace" {
        return Err("user 42 was not reloaded".into());
    }
    Ok(())
}

/// 100 requests for one user each, at once: merged into one query.
async fn merge_single_requests(db: &Db) -> Result<(), Failure> {
    let cache = Cache::new(Config::new());
    let before = db.queries().len();
    let requests: Vec<_> = (1_001..=1_100)
        .map(|id| {
            let db = db.clone();
            tokio::spawn(async move { cache.scope(get_users_merged(db, vec![id])).await })
        })
        .collect();
    for request in requests {
        request.await??;
    }
    println!(
        "\n100 concurrent single-user requests (merge = \"2ms\"): {} queries, asking for {:?} ids",
        db.queries().len() - before,
        &db.queries()[before..]
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
