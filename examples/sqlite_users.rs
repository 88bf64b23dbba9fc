//! Caching queries against a real SQLite database.
//!
//! ```sh
//! cargo run --example sqlite_users
//! ```
//!
//! The example creates a database in a temporary file (deleted at the end), fills it with 10,000
//! users, then runs the same workload of reads twice: uncached (inside `cached_query::bypass`)
//! and cached. The workload asks mostly for a few hundred "hot" users, as real traffic does, and
//! for the statistics of a country (an aggregate over the whole table). It prints both timings,
//! the speed-up and the hit ratio from `cached_query::stats()`. Last, it updates a user, shows
//! that the cache still serves the old row, invalidates the user's tag and shows that the next
//! read returns the new row.
//!
//! SQLite calls block, so each query runs on tokio's blocking pool (`spawn_blocking`).
//! `rusqlite`'s `bundled` feature compiles SQLite itself: nothing to install.

use cached_query::cached_query;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USERS: i64 = 10_000;
const COUNTRIES: [&str; 8] = ["FR", "DE", "US", "JP", "BR", "IN", "NG", "CA"];
/// Reads of one user by id, most of them for `HOT_USERS` users.
const USER_READS: usize = 20_000;
const HOT_USERS: i64 = 500;
/// Reads of a country's statistics (a full scan of `users` each, uncached).
const COUNTRY_READS: usize = 400;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct User {
    id: i64,
    name: String,
    email: String,
    country: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct CountryStats {
    country: String,
    users: i64,
    average_name_length: f64,
}

#[derive(Debug)]
enum DbError {
    NotFound(i64),
    Sqlite(rusqlite::Error),
    /// The blocking task panicked or was cancelled.
    Task(tokio::task::JoinError),
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::NotFound(id) => write!(f, "no user {id}"),
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

/// One SQLite connection, used from tokio's blocking pool. (A service with concurrent
/// requests would keep a pool of them; one is enough for a sequential workload.)
#[derive(Clone)]
struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    fn open(path: &std::path::Path) -> Result<Db, DbError> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE users (
                 id      INTEGER PRIMARY KEY,
                 name    TEXT NOT NULL,
                 email   TEXT NOT NULL,
                 country TEXT NOT NULL
             );",
        )?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn call<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut conn)
        })
        .await
        .map_err(DbError::Task)?
    }

    async fn fill(&self, users: i64) -> Result<(), DbError> {
        self.call(move |conn| {
            let tx = conn.transaction()?;
            {
                let mut insert = tx.prepare(
                    "INSERT INTO users (id, name, email, country) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for id in 1..=users {
                    let name = format!("User {id}");
                    let email = format!("user{id}@example.com");
                    let country = COUNTRIES[id as usize % COUNTRIES.len()];
                    insert.execute(params![id, name, email, country])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn load_user(&self, id: i64) -> Result<User, DbError> {
        self.call(move |conn| {
            conn.prepare_cached("SELECT name, email, country FROM users WHERE id = ?1")?
                .query_row([id], |row| {
                    Ok(User {
                        id,
                        name: row.get(0)?,
                        email: row.get(1)?,
                        country: row.get(2)?,
                    })
                })
                .optional()?
                .ok_or(DbError::NotFound(id))
        })
        .await
    }

    async fn load_country_stats(&self, country: String) -> Result<CountryStats, DbError> {
        self.call(move |conn| {
            let (users, average_name_length) = conn
                .prepare_cached(
                    "SELECT COUNT(*), COALESCE(AVG(LENGTH(name)), 0) FROM users WHERE country = ?1",
                )?
                .query_row([&country], |row| Ok((row.get(0)?, row.get(1)?)))?;
            Ok(CountryStats {
                country,
                users,
                average_name_length,
            })
        })
        .await
    }

    async fn rename(&self, id: i64, name: String) -> Result<(), DbError> {
        self.call(move |conn| {
            let changed = conn
                .prepare_cached("UPDATE users SET name = ?2 WHERE id = ?1")?
                .execute(params![id, name])?;
            if changed == 0 {
                return Err(DbError::NotFound(id));
            }
            Ok(())
        })
        .await
    }
}

/// A point lookup by primary key, cached for 5 minutes, invalidated by `user:{id}`.
#[cached_query(ttl = "5m", tags = ["users", "user:{id}"], skip(db))]
async fn get_user(db: &Db, id: i64) -> Result<User, DbError> {
    db.load_user(id).await
}

/// An aggregate over the whole table, cached for 1 minute, invalidated by `users`.
#[cached_query(ttl = "1m", tags = ["users"], skip(db))]
async fn country_stats(db: &Db, country: String) -> Result<CountryStats, DbError> {
    db.load_country_stats(country).await
}

/// The workload: which user ids and countries to read, in order. Deterministic (a fixed-seed
/// xorshift), so both runs read exactly the same things.
struct Workload {
    user_ids: Vec<i64>,
    countries: Vec<String>,
}

impl Workload {
    fn new() -> Workload {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 33) as i64 // 31 random bits, never negative
        };
        // 90 % of the reads go to the hot users, the rest anywhere in the table.
        let user_ids = (0..USER_READS)
            .map(|_| {
                let r = next();
                if r % 10 < 9 {
                    1 + (r >> 4) % HOT_USERS
                } else {
                    1 + (r >> 4) % USERS
                }
            })
            .collect();
        let countries = (0..COUNTRY_READS)
            .map(|_| COUNTRIES[next() as usize % COUNTRIES.len()].to_string())
            .collect();
        Workload {
            user_ids,
            countries,
        }
    }

    fn distinct_users(&self) -> usize {
        let mut ids = self.user_ids.clone();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    /// Runs every read; returns the time taken by the user reads and by the country reads.
    async fn run(&self, db: &Db) -> Result<(Duration, Duration), DbError> {
        let started = Instant::now();
        for &id in &self.user_ids {
            get_user(db, id).await?;
        }
        let users = started.elapsed();
        let started = Instant::now();
        for country in &self.countries {
            country_stats(db, country.clone()).await?;
        }
        Ok((users, started.elapsed()))
    }
}

/// The database file, deleted when dropped.
struct TempDb(PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

fn counts(function: &str) -> cached_query::Counts {
    cached_query::stats()
        .function(function)
        .map(|f| f.counts)
        .unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn per_read(d: Duration, reads: usize) -> String {
    format!("{:.2} µs/read", d.as_secs_f64() * 1e6 / reads as f64)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let file = TempDb(std::env::temp_dir().join(format!(
        "cached-query-sqlite-users-{}.db",
        std::process::id()
    )));
    let _ = std::fs::remove_file(&file.0);
    let db = Db::open(&file.0)?;

    let started = Instant::now();
    db.fill(USERS).await?;
    println!(
        "database {} filled with {USERS} users in {}",
        file.0.display(),
        ms(started.elapsed())
    );

    let workload = Workload::new();
    println!(
        "workload: {USER_READS} reads of {} distinct users ({HOT_USERS} hot), \
         {COUNTRY_READS} reads of {} countries' statistics\n",
        workload.distinct_users(),
        COUNTRIES.len()
    );

    // The same reads three times: uncached (every call runs its query; counted as `bypassed`),
    // cached from an empty cache (the first read of each key runs the query), and cached again
    // (every read a hit).
    let (uncached_users, uncached_countries) = cached_query::bypass(workload.run(&db)).await?;
    let before = (counts("get_user"), counts("country_stats"));
    let (cold_users, cold_countries) = workload.run(&db).await?;
    let cold = (counts("get_user"), counts("country_stats"));
    let (warm_users, warm_countries) = workload.run(&db).await?;

    // The hit ratio of one run, from the counts of `cached_query::stats()` before and after it.
    let hit_ratio = |after: &cached_query::Counts, before: &cached_query::Counts| {
        let run = after.since(before);
        format!(
            "{:.1} % hits ({} hits, {} misses)",
            run.hit_ratio() * 100.0,
            run.hits,
            run.misses
        )
    };
    for (function, reads, uncached, cold_time, warm_time, before, cold) in [
        (
            "get_user",
            USER_READS,
            uncached_users,
            cold_users,
            warm_users,
            before.0,
            cold.0,
        ),
        (
            "country_stats",
            COUNTRY_READS,
            uncached_countries,
            cold_countries,
            warm_countries,
            before.1,
            cold.1,
        ),
    ] {
        let speed_up = |t: Duration| uncached.as_secs_f64() / t.as_secs_f64().max(1e-9);
        println!("{function} ({reads} reads)");
        println!(
            "  uncached            {:>10} {:>16}",
            ms(uncached),
            per_read(uncached, reads)
        );
        println!(
            "  cached, from empty  {:>10} {:>16}  {:>6.1}x faster  {}",
            ms(cold_time),
            per_read(cold_time, reads),
            speed_up(cold_time),
            hit_ratio(&cold, &before)
        );
        println!(
            "  cached, warm        {:>10} {:>16}  {:>6.1}x faster  {}",
            ms(warm_time),
            per_read(warm_time, reads),
            speed_up(warm_time),
            hit_ratio(&counts(function), &cold)
        );
    }
    if cfg!(debug_assertions) {
        println!("(a debug build: `--release` makes every line faster, hits the most)");
    }

    let stats = cached_query::stats();
    println!(
        "\ncached_query::stats() in total: {} hits, {} misses, {} bypassed, hit ratio {:.1} %, \
         {} entries",
        stats.total.hits,
        stats.total.misses,
        stats.total.bypassed,
        stats.total.hit_ratio() * 100.0,
        stats.total.entries
    );

    // A write, then the invalidation of the rows it changed.
    let id = 42;
    let before = get_user(&db, id).await?;
    db.rename(id, "Ada Lovelace".to_string()).await?;
    let stale = get_user(&db, id).await?;
    println!("\nuser {id} before the update:        {}", before.name);
    println!(
        "UPDATE users SET name = 'Ada Lovelace' WHERE id = {id}\n\
         user {id} read again, not invalidated: {} (served from the cache)",
        stale.name
    );
    if let Err(e) = cached_query::invalidate_tag(&format!("user:{id}")).await {
        eprintln!("invalidation incomplete: {e}");
    }
    let misses = counts("get_user").misses;
    let fresh = get_user(&db, id).await?;
    let ran_query = counts("get_user").misses > misses;
    println!(
        "invalidate_tag(\"user:{id}\")\n\
         user {id} read after invalidation:   {} ({})",
        fresh.name,
        if ran_query {
            "a miss: the query ran"
        } else {
            "a hit"
        }
    );
    if fresh.name != "Ada Lovelace" {
        return Err(format!("expected the new name after invalidation, read {fresh:?}").into());
    }
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
