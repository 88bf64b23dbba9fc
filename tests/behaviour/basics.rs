//! Hits, misses, and what each return type caches.

use crate::{Runs, counts};
use cached_query::cached_query;
use serde::{Deserialize, Serialize};

static SQUARE_RUNS: Runs = Runs::new();

#[cached_query(ttl = 60)]
async fn square(x: u64) -> u64 {
    SQUARE_RUNS.bump();
    x * x
}

#[tokio::test]
async fn a_second_identical_call_is_a_hit() {
    assert_eq!(square(3).await, 9);
    assert_eq!(square(3).await, 9);
    assert_eq!(SQUARE_RUNS.get(), 1);
    assert_eq!(square(4).await, 16, "other arguments are another entry");
    assert_eq!(SQUARE_RUNS.get(), 2);
    let c = counts("basics::square");
    assert_eq!((c.hits, c.misses), (1, 2));
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    id: u64,
    name: String,
}

#[derive(Debug, PartialEq)]
pub struct DbError(String);

static LOAD_RUNS: Runs = Runs::new();

#[cached_query(ttl = "5m")]
async fn load_user(id: u64) -> Result<User, DbError> {
    LOAD_RUNS.bump();
    if id == 0 {
        return Err(DbError("no user 0".into()));
    }
    Ok(User {
        id,
        name: format!("user {id}"),
    })
}

#[tokio::test]
async fn result_caches_ok_and_returns_err_unchanged_and_uncached() {
    let ok = load_user(7).await;
    assert_eq!(ok.as_ref().map(|u| u.id), Ok(7));
    assert_eq!(load_user(7).await, ok);
    assert_eq!(LOAD_RUNS.get(), 1);

    assert_eq!(load_user(0).await, Err(DbError("no user 0".into())));
    assert_eq!(load_user(0).await, Err(DbError("no user 0".into())));
    assert_eq!(LOAD_RUNS.get(), 3, "errors are never cached");
    let c = counts("load_user");
    assert_eq!((c.hits, c.misses, c.errors), (1, 3, 2));
}

static ANYHOW_RUNS: Runs = Runs::new();

mod io_like {
    pub type Result<T> = std::result::Result<T, std::io::Error>;
}

#[cached_query]
async fn read_config(name: String) -> io_like::Result<String> {
    ANYHOW_RUNS.bump();
    if name.is_empty() {
        Err(std::io::Error::other("empty name"))
    } else {
        Ok(format!("[{name}]"))
    }
}

#[tokio::test]
async fn a_result_alias_is_recognised_by_its_last_segment() {
    assert_eq!(read_config("a".into()).await.ok(), Some("[a]".into()));
    assert_eq!(read_config("a".into()).await.ok(), Some("[a]".into()));
    assert!(read_config(String::new()).await.is_err());
    assert!(read_config(String::new()).await.is_err());
    assert_eq!(ANYHOW_RUNS.get(), 3);
}

type Lookup = std::result::Result<u32, String>;
static ALIAS_RUNS: Runs = Runs::new();

#[cached_query(returns = "result")]
async fn lookup_alias(x: u32) -> Lookup {
    ALIAS_RUNS.bump();
    if x == 0 { Err("zero".into()) } else { Ok(x) }
}

#[tokio::test]
async fn returns_result_covers_aliases_with_other_names() {
    assert_eq!(lookup_alias(0).await, Err("zero".into()));
    assert_eq!(lookup_alias(0).await, Err("zero".into()));
    assert_eq!(lookup_alias(5).await, Ok(5));
    assert_eq!(lookup_alias(5).await, Ok(5));
    assert_eq!(ALIAS_RUNS.get(), 3);
}

static FIND_RUNS: Runs = Runs::new();

#[cached_query]
async fn find(id: u32) -> Option<String> {
    FIND_RUNS.bump();
    id.is_multiple_of(2).then(|| format!("even {id}"))
}

#[tokio::test]
async fn option_caches_some_but_not_none() {
    assert_eq!(find(2).await.as_deref(), Some("even 2"));
    assert_eq!(find(2).await.as_deref(), Some("even 2"));
    assert_eq!(find(3).await, None);
    assert_eq!(find(3).await, None);
    assert_eq!(FIND_RUNS.get(), 3);
    assert_eq!(counts("basics::find").not_cached, 2);
}

static FIND_NONE_RUNS: Runs = Runs::new();

#[cached_query(cache_none, none_ttl = "10s")]
async fn find_caching_none(id: u32) -> Option<String> {
    FIND_NONE_RUNS.bump();
    id.is_multiple_of(2).then(|| format!("even {id}"))
}

#[tokio::test]
async fn cache_none_caches_none_too() {
    assert_eq!(find_caching_none(3).await, None);
    assert_eq!(find_caching_none(3).await, None);
    assert_eq!(FIND_NONE_RUNS.get(), 1);
    assert_eq!(counts("find_caching_none").hits, 1);
}

static LOCAL_RUNS: Runs = Runs::new();

/// Not serializable: only storable with `local`.
#[derive(Clone, Debug, PartialEq)]
pub struct Handle(std::sync::Arc<str>);

#[cached_query(local)]
async fn open_handle(name: &str) -> Handle {
    LOCAL_RUNS.bump();
    Handle(name.into())
}

#[tokio::test]
async fn local_values_need_no_serde() {
    assert_eq!(open_handle("a").await, Handle("a".into()));
    assert_eq!(open_handle("a").await, Handle("a".into()));
    assert_eq!(LOCAL_RUNS.get(), 1);
}

static PANIC_FREE_RUNS: Runs = Runs::new();

/// An argument whose serialization fails cannot form a key: the call runs uncached and still
/// succeeds.
pub struct Unencodable;

impl Serialize for Unencodable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("cannot encode"))
    }
}

#[cached_query]
async fn with_unencodable(_value: Unencodable, x: u8) -> u8 {
    PANIC_FREE_RUNS.bump();
    x
}

#[tokio::test]
async fn an_unencodable_argument_runs_the_function_uncached() {
    assert_eq!(with_unencodable(Unencodable, 1).await, 1);
    assert_eq!(with_unencodable(Unencodable, 1).await, 1);
    assert_eq!(PANIC_FREE_RUNS.get(), 2);
    assert_eq!(counts("with_unencodable").key_errors, 2);
}

static EARLY_RUNS: Runs = Runs::new();

#[cached_query]
async fn early_return(x: i32) -> Result<i32, String> {
    EARLY_RUNS.bump();
    if x < 0 {
        return Err("negative".to_string());
    }
    let doubled: i32 = "2".parse::<i32>().map_err(|e| e.to_string())? * x;
    Ok(doubled)
}

#[tokio::test]
async fn early_return_and_question_mark_work_in_the_body() {
    assert_eq!(early_return(-1).await, Err("negative".into()));
    assert_eq!(early_return(4).await, Ok(8));
    assert_eq!(early_return(4).await, Ok(8));
    assert_eq!(EARLY_RUNS.get(), 2);
}

static SHORT_RUNS: Runs = Runs::new();

#[cached_query(ttl = "300ms")]
async fn short_lived(x: u8) -> u8 {
    SHORT_RUNS.bump();
    x
}

#[tokio::test]
async fn on_the_real_clock_an_entry_expires_after_its_ttl_and_not_before() {
    let started = std::time::Instant::now();
    short_lived(1).await;
    short_lived(1).await;
    assert_eq!(SHORT_RUNS.get(), 1, "fresh right after");
    while SHORT_RUNS.get() == 1 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "never expired"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        short_lived(1).await;
    }
    // The default jitter shortens a TTL by up to 5 %, never lengthens it.
    let lived = started.elapsed();
    assert!(
        lived >= std::time::Duration::from_millis(280),
        "expired after {lived:?}"
    );
}
