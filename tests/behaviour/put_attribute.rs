//! `#[cache_put]`: after a write succeeds, its value is the read call's entry (a hit, no body
//! run); after it fails nothing changes; a put racing an invalidation never makes an older
//! value visible.

use crate::{Runs, counts};
use cached_query::{cache_invalidate, cache_put, cached_query, invalidate_tag};
use serde::{Deserialize, Serialize};
use std::sync::{Mutex, PoisonError};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    id: u64,
    name: String,
}

/// What the "database" holds: the name of each user.
struct Db(Mutex<Vec<(u64, String)>>);

impl Db {
    const fn new() -> Db {
        Db(Mutex::new(Vec::new()))
    }
    fn name(&self, id: u64) -> String {
        let rows = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let row = rows.iter().find(|(row, _)| *row == id);
        row.map_or_else(|| "nobody".to_owned(), |(_, name)| name.clone())
    }
    fn save(&self, id: u64, name: &str) {
        let mut rows = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        rows.retain(|(row, _)| *row != id);
        rows.push((id, name.to_owned()));
    }
}

static DB: Db = Db::new();
static READS: Runs = Runs::new();
/// The tests on `put_get_user` share its counts: one at a time.
static USER_TESTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[cached_query(ttl = "5m", tags = ["put_users", "put_user:{id}"], skip(db))]
async fn put_get_user(db: &Db, id: u64) -> Result<User, String> {
    READS.bump();
    Ok(User {
        id,
        name: db.name(id),
    })
}

#[cache_put(put_get_user(db, id))]
async fn put_update_user(db: &Db, id: u64, name: String) -> Result<User, String> {
    if name.is_empty() {
        return Err("empty name".to_owned());
    }
    db.save(id, &name);
    Ok(User { id, name }) // `name` moved: the read call was made before the body
}

#[tokio::test]
async fn after_ok_the_read_is_a_hit_with_the_new_value_after_err_nothing_changes() {
    let _alone = USER_TESTS.lock().await;
    let reads = READS.get();
    let old = put_get_user(&DB, 1).await;
    assert_eq!(READS.get(), reads + 1);
    let hits = counts("put_get_user").hits;

    let new = put_update_user(&DB, 1, "Grace".into()).await;
    assert_eq!(new.as_ref().map(|u| u.name.as_str()), Ok("Grace"));
    assert_eq!(
        put_get_user(&DB, 1).await,
        new,
        "the read returns the new value"
    );
    assert_eq!(READS.get(), reads + 1, "without running its body");
    assert_eq!(counts("put_get_user").hits, hits + 1, "counted as a hit");
    assert_ne!(old, new);

    assert!(put_update_user(&DB, 1, String::new()).await.is_err());
    assert_eq!(put_get_user(&DB, 1).await, new, "`Err` changed nothing");
    assert_eq!(READS.get(), reads + 1);
}

#[tokio::test]
async fn the_entry_carries_the_read_functions_tags() {
    let _alone = USER_TESTS.lock().await;
    put_update_user(&DB, 2, "Ada".into()).await.unwrap();
    assert_eq!(put_get_user(&DB, 2).await.unwrap().name, "Ada");
    let reads = READS.get();
    invalidate_tag("put_user:2").await.unwrap();
    assert_eq!(put_get_user(&DB, 2).await.unwrap().name, "Ada");
    assert_eq!(
        READS.get(),
        reads + 1,
        "the tag templated from the read call's `id`"
    );
}

static RACE_READS: Runs = Runs::new();
static RACE_DB: Db = Db::new();
/// A point where a function waits, once armed for one id: it tells the test it got there, then
/// waits until the test lets it go on. For other ids (tests run in parallel) it passes
/// straight through.
struct Pause {
    armed: Mutex<Vec<Armed>>,
}

struct Armed {
    id: u64,
    reached: tokio::sync::oneshot::Sender<()>,
    gate: tokio::sync::oneshot::Receiver<()>,
}

impl Pause {
    const fn new() -> Pause {
        Pause {
            armed: Mutex::new(Vec::new()),
        }
    }

    /// Arms the pause for the next call with `id`: a receiver told when it gets there, and a
    /// sender that lets it go on.
    fn arm(
        &self,
        id: u64,
    ) -> (
        tokio::sync::oneshot::Receiver<()>,
        tokio::sync::oneshot::Sender<()>,
    ) {
        let (reached, told) = tokio::sync::oneshot::channel();
        let (release, gate) = tokio::sync::oneshot::channel();
        self.armed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Armed { id, reached, gate });
        (told, release)
    }

    async fn here(&self, id: u64) {
        let armed = {
            let mut armed = self.armed.lock().unwrap_or_else(PoisonError::into_inner);
            let mine = armed.iter().position(|a| a.id == id);
            mine.map(|at| armed.swap_remove(at))
        };
        if let Some(Armed { reached, gate, .. }) = armed {
            let _ = reached.send(());
            let _ = gate.await;
        }
    }
}

static RACE_PAUSE: Pause = Pause::new();

#[cached_query(ttl = "5m", tags = ["put_race:{id}"])]
async fn put_race_read(id: u64) -> String {
    RACE_READS.bump();
    RACE_DB.name(id)
}

/// Writes `name`, waiting (after telling the test it started) until the test lets it finish.
#[cache_put(put_race_read(id))]
async fn put_race_write(id: u64, name: String) -> String {
    RACE_DB.save(id, &name);
    RACE_PAUSE.here(id).await;
    name
}

#[tokio::test]
async fn a_put_racing_an_invalidation_never_makes_an_older_value_visible() {
    RACE_DB.save(5, "before");
    assert_eq!(put_race_read(5).await, "before");
    let (started, release) = RACE_PAUSE.arm(5);

    let write = tokio::spawn(put_race_write(5, "written".into()));
    started.await.unwrap();
    // While the write runs, another writer changes the row and invalidates its tag.
    RACE_DB.save(5, "newest");
    invalidate_tag("put_race:5").await.unwrap();
    release.send(()).unwrap();
    assert_eq!(write.await.unwrap(), "written");

    let reads = RACE_READS.get();
    assert_eq!(
        put_race_read(5).await,
        "newest",
        "the put's entry was stale on arrival: the read ran its query"
    );
    assert_eq!(RACE_READS.get(), reads + 1);
}

static OPTION_READS: Runs = Runs::new();

#[cached_query(ttl = "5m")]
async fn put_find_name(id: u64) -> Option<String> {
    OPTION_READS.bump();
    (id != 0).then(|| format!("found {id}"))
}

#[cache_put(put_find_name(id))]
async fn put_rename(id: u64, name: Option<String>) -> Option<String> {
    name
}

#[tokio::test]
async fn an_option_stores_some_and_none_changes_nothing() {
    assert_eq!(put_find_name(3).await.as_deref(), Some("found 3"));
    assert_eq!(
        put_rename(3, Some("three".into())).await.as_deref(),
        Some("three")
    );
    assert_eq!(put_find_name(3).await.as_deref(), Some("three"));
    assert_eq!(put_rename(3, None).await, None);
    assert_eq!(put_find_name(3).await.as_deref(), Some("three"));
    assert_eq!(OPTION_READS.get(), 1);
}

#[derive(Serialize)]
struct Repo {
    shard: u32,
}

static METHOD_READS: Runs = Runs::new();

impl Repo {
    #[cached_query(ttl = "5m", tags = ["put_repo:{id}"])]
    async fn score(&self, id: u64) -> u64 {
        METHOD_READS.bump();
        id + u64::from(self.shard)
    }

    /// Two entries from one write: the method's, and a free function's; invalidates a tag too.
    #[cache_put(self.score(id), put_plain_score(id))]
    #[cache_invalidate(tags = ["put_repo_totals"])]
    async fn set_score(&self, id: u64, score: u64) -> u64 {
        score
    }
}

static PLAIN_READS: Runs = Runs::new();

#[cached_query(ttl = "5m")]
async fn put_plain_score(id: u64) -> u64 {
    PLAIN_READS.bump();
    id
}

#[tokio::test]
async fn a_method_and_several_read_calls() {
    let repo = Repo { shard: 1 };
    assert_eq!(repo.score(10).await, 11);
    assert_eq!(repo.set_score(10, 99).await, 99);
    assert_eq!(repo.score(10).await, 99);
    assert_eq!(put_plain_score(10).await, 99);
    assert_eq!(METHOD_READS.get(), 1);
    assert_eq!(PLAIN_READS.get(), 0, "stored without ever running");
    assert_eq!(
        Repo { shard: 2 }.score(10).await,
        12,
        "another receiver's key"
    );
}

static UNCACHED_READS: Runs = Runs::new();

#[cached_query(ttl = "5m", condition = id != 0)]
async fn put_conditional(id: u64) -> u64 {
    UNCACHED_READS.bump();
    id
}

#[cache_put(put_conditional(id))]
async fn put_conditional_write(id: u64, value: u64) -> u64 {
    value
}

#[tokio::test]
async fn a_read_call_that_is_not_cached_stores_nothing_and_does_not_run() {
    assert_eq!(put_conditional_write(0, 5).await, 5);
    assert_eq!(UNCACHED_READS.get(), 0, "the read's body never runs");
    assert_eq!(put_conditional(0).await, 0, "nothing was stored");
    assert_eq!(put_conditional_write(4, 40).await, 40);
    assert_eq!(put_conditional(4).await, 40);
    assert_eq!(UNCACHED_READS.get(), 1);
}

static TAGGED_READS: Runs = Runs::new();

#[cached_query(ttl = "5m", result_tags = |ids| ids.iter().map(|id| format!("put_member:{id}")).collect::<Vec<_>>())]
async fn put_members(team: u64) -> Vec<u64> {
    TAGGED_READS.bump();
    vec![team, team + 1]
}

#[cache_put(put_members(team))]
async fn put_set_members(team: u64, members: Vec<u64>) -> Vec<u64> {
    let _ = team;
    members
}

#[tokio::test]
async fn a_put_to_a_function_with_result_tags_removes_its_entry_instead() {
    assert_eq!(put_members(8).await, vec![8, 9]);
    assert_eq!(put_set_members(8, vec![1, 2]).await, vec![1, 2]);
    assert_eq!(
        put_members(8).await,
        vec![8, 9],
        "computed again, with its tags"
    );
    assert_eq!(TAGGED_READS.get(), 2);
}

static SLOW_DB: Db = Db::new();
static SLOW_PAUSE: Pause = Pause::new();

/// Reads the row, then waits (after telling the test it read) until the test lets it return.
#[cached_query(ttl = "5m")]
async fn put_slow_read(id: u64) -> String {
    let name = SLOW_DB.name(id);
    SLOW_PAUSE.here(id).await;
    name
}

#[cache_put(put_slow_read(id))]
async fn put_slow_write(id: u64, name: String) -> String {
    SLOW_DB.save(id, &name);
    name
}

#[tokio::test]
async fn a_read_computing_from_the_old_data_while_the_put_lands_is_not_stored() {
    SLOW_DB.save(6, "old");
    let (started, release) = SLOW_PAUSE.arm(6);

    let read = tokio::spawn(put_slow_read(6));
    started.await.unwrap(); // it has read "old"
    assert_eq!(put_slow_write(6, "new".into()).await, "new");
    release.send(()).unwrap();
    assert_eq!(read.await.unwrap(), "old", "its caller gets what it read");
    assert_eq!(
        put_slow_read(6).await,
        "new",
        "the old read finished after the put: it was not stored over it"
    );
}

#[tokio::test]
async fn a_refresh_computing_from_the_old_data_while_the_put_lands_is_not_stored() {
    SLOW_DB.save(7, "old");
    assert_eq!(put_slow_read(7).await, "old");
    let (started, release) = SLOW_PAUSE.arm(7);

    // A refresh runs outside single-flight; the put must still keep its result out.
    let refresh = tokio::spawn(cached_query::refresh(put_slow_read(7)));
    started.await.unwrap(); // it has read "old"
    assert_eq!(put_slow_write(7, "new".into()).await, "new");
    release.send(()).unwrap();
    assert_eq!(
        refresh.await.unwrap(),
        "old",
        "its caller gets what it read"
    );
    assert_eq!(
        put_slow_read(7).await,
        "new",
        "the refresh finished after the put: it was not stored over it"
    );
}
