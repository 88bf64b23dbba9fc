//! Batch functions (`#[cached_query(batch)]`, issue 14): each item is the entry of the same
//! function called with that item alone. Each test runs in a cache instance of its own, so its
//! entries and counts are its own.

use crate::until;
use cached_query::{Cache, Config, Counts, ManualClock, cached_query};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::Semaphore;

/// A database of users: ids that are multiples of 10 do not exist. Records what each query
/// asked for; can fail, or hold its queries at a gate.
#[derive(Default)]
pub struct Db {
    queries: Mutex<Vec<Vec<u64>>>,
    failing: bool,
    gate: Option<Semaphore>,
}

impl Db {
    fn gated() -> Db {
        Db {
            gate: Some(Semaphore::new(0)),
            ..Db::default()
        }
    }

    /// Each query's ids, sorted.
    fn queries(&self) -> Vec<Vec<u64>> {
        let mut queries = self
            .queries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        queries.iter_mut().for_each(|ids| ids.sort_unstable());
        queries
    }

    async fn load<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a u64>,
    ) -> Result<HashMap<u64, String>, String> {
        let ids: Vec<u64> = ids.into_iter().copied().collect();
        self.queries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(ids.clone());
        if let Some(gate) = &self.gate {
            let _permit = gate.acquire().await;
        }
        if self.failing {
            return Err("database down".into());
        }
        let found = ids.into_iter().filter(|id| id % 10 != 0);
        Ok(found.map(|id| (id, format!("user {id}"))).collect())
    }
}

#[cached_query(batch, tags = ["users", "user:{id}"], skip(db))]
async fn get_users(db: &Db, ids: Vec<u64>) -> Result<HashMap<u64, String>, String> {
    db.load(&ids).await
}

fn own() -> Cache {
    Cache::new(Config::new())
}

fn counts_of(cache: Cache, function: &str) -> Counts {
    let stats = cache.stats();
    stats
        .function(function)
        .map(|f| f.counts)
        .unwrap_or_default()
}

#[tokio::test]
async fn two_hundred_ids_with_150_cached_load_exactly_the_50_others() {
    let (cache, db) = (own(), Db::default());
    let cached: Vec<u64> = (1..=150).collect();
    cache.scope(get_users(&db, cached)).await.unwrap();
    let all: Vec<u64> = (1..=200).collect();
    let users = cache.scope(get_users(&db, all.clone())).await.unwrap();
    assert_eq!(db.queries()[1], (151..=200).collect::<Vec<_>>());
    assert_eq!(users.len(), 180, "all 200 but the 20 that do not exist");
    assert_eq!(users[&7], "user 7");
    assert_eq!(users[&199], "user 199");

    let again = cache.scope(get_users(&db, all)).await.unwrap();
    assert_eq!(again, users);
    assert_eq!(db.queries().len(), 2, "asking again runs nothing");
    let counts = counts_of(cache, "get_users");
    assert_eq!((counts.misses, counts.hits), (200, 150 + 200), "per item");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_overlapping_batches_load_each_id_once() {
    let (cache, db) = (own(), Arc::new(Db::gated()));
    let first = {
        let db = Arc::clone(&db);
        tokio::spawn(async move { cache.scope(get_users(&db, (1..=100).collect())).await })
    };
    until(|| db.queries().len() == 1).await;
    let second = {
        let db = Arc::clone(&db);
        tokio::spawn(async move { cache.scope(get_users(&db, (50..=150).collect())).await })
    };
    // The second batch has looked its items up (all missing: the first is still loading).
    until(|| counts_of(cache, "get_users").misses == 100 + 101).await;
    db.gate.as_ref().unwrap().add_permits(10);
    assert_eq!(first.await.unwrap().unwrap().len(), 90);
    assert_eq!(second.await.unwrap().unwrap().len(), 90);
    let queries = db.queries();
    assert_eq!(queries.len(), 2);
    let mut loaded = queries.concat();
    loaded.sort_unstable();
    assert_eq!(
        loaded,
        (1..=150).collect::<Vec<_>>(),
        "each id once in total"
    );
}

#[cached_query(batch, ttl = "10m", none_ttl = "1m", skip(db))]
async fn find_users(db: &Db, ids: Vec<u64>) -> Result<HashMap<u64, String>, String> {
    db.load(&ids).await
}

#[tokio::test]
async fn an_absent_id_is_not_asked_for_again_within_none_ttl() {
    let clock = ManualClock::new();
    let cache = Cache::new(Config::new().clock(clock.clone()).ttl_jitter(0.0));
    let db = Db::default();
    let found = cache.scope(find_users(&db, vec![10, 11])).await.unwrap();
    assert_eq!(found.into_keys().collect::<Vec<_>>(), vec![11]);
    clock.advance(Duration::from_secs(59));
    cache.scope(find_users(&db, vec![10, 11])).await.unwrap();
    assert_eq!(db.queries().len(), 1, "10 is known to be absent");
    clock.advance(Duration::from_secs(1));
    cache.scope(find_users(&db, vec![10, 11])).await.unwrap();
    assert_eq!(db.queries(), vec![vec![10, 11], vec![10]], "past none_ttl");
}

#[cached_query(batch, cache_none = false, skip(db))]
async fn find_users_uncached_absence(
    db: &Db,
    ids: Vec<u64>,
) -> Result<HashMap<u64, String>, String> {
    db.load(&ids).await
}

#[tokio::test]
async fn with_cache_none_false_an_absent_id_is_asked_for_again() {
    let (cache, db) = (own(), Db::default());
    for _ in 0..2 {
        let found = cache
            .scope(find_users_uncached_absence(&db, vec![10, 11]))
            .await;
        assert_eq!(found.unwrap().len(), 1);
    }
    assert_eq!(db.queries(), vec![vec![10, 11], vec![10]]);
}

#[tokio::test]
async fn an_error_caches_nothing() {
    let cache = own();
    let failing = Db {
        failing: true,
        ..Db::default()
    };
    let failed = cache.scope(get_users(&failing, vec![1, 2])).await;
    assert_eq!(failed, Err("database down".to_string()));
    let db = Db::default();
    assert_eq!(
        cache.scope(get_users(&db, vec![1, 2])).await.unwrap().len(),
        2
    );
    assert_eq!(db.queries(), vec![vec![1, 2]], "nothing was cached");
}

#[tokio::test]
async fn a_tag_invalidation_of_one_item_makes_only_that_item_load_again() {
    let (cache, db) = (own(), Db::default());
    cache.scope(get_users(&db, vec![1, 2, 3])).await.unwrap();
    cache.invalidate_tag("user:2").await.unwrap();
    cache.scope(get_users(&db, vec![1, 2, 3])).await.unwrap();
    assert_eq!(db.queries(), vec![vec![1, 2, 3], vec![2]]);
    cache.invalidate_tag("users").await.unwrap();
    cache.scope(get_users(&db, vec![3])).await.unwrap();
    assert_eq!(db.queries()[2], vec![3], "the tags every item has");
}

#[tokio::test]
async fn forgetting_a_one_item_call_forgets_that_item_of_every_batch() {
    let (cache, db) = (own(), Db::default());
    cache.scope(get_users(&db, vec![41, 42, 43])).await.unwrap();
    assert!(
        cache
            .scope(cached_query::forget(get_users(&db, vec![42])))
            .await
    );
    cache.scope(get_users(&db, vec![41, 42, 43])).await.unwrap();
    assert_eq!(db.queries(), vec![vec![41, 42, 43], vec![42]]);
    cache
        .scope(cached_query::forget_all(get_users(&db, vec![])))
        .await;
    cache.scope(get_users(&db, vec![41])).await.unwrap();
    assert_eq!(db.queries()[2], vec![41]);
}

#[tokio::test]
async fn refresh_recomputes_and_bypass_runs_uncached() {
    let (cache, db) = (own(), Db::default());
    cache.scope(get_users(&db, vec![1, 2])).await.unwrap();
    let refreshed = cache.scope(cached_query::refresh(get_users(&db, vec![2, 3])));
    assert_eq!(refreshed.await.unwrap().len(), 2);
    let bypassed = cache.scope(cached_query::bypass(get_users(&db, vec![1, 3])));
    assert_eq!(bypassed.await.unwrap().len(), 2);
    cache.scope(get_users(&db, vec![1, 2, 3])).await.unwrap();
    assert_eq!(
        db.queries(),
        vec![vec![1, 2], vec![2, 3], vec![1, 3]],
        "the refresh stored 2 and 3, the bypass nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_forgotten_while_a_refresh_computes_it_is_not_stored() {
    let (cache, db) = (own(), Arc::new(Db::gated()));
    let refresh = {
        let db = Arc::clone(&db);
        tokio::spawn(async move {
            let refreshed = cached_query::refresh(get_users(&db, vec![7, 8]));
            cache.scope(refreshed).await
        })
    };
    until(|| db.queries().len() == 1).await; // the refresh has read 7 and 8
    let forgotten = cached_query::forget(get_users(&db, vec![7]));
    let _nothing_stored_yet = cache.scope(forgotten).await;
    db.gate.as_ref().unwrap().add_permits(10);
    assert_eq!(
        refresh.await.unwrap().unwrap().len(),
        2,
        "its caller gets both"
    );
    cache.scope(get_users(&db, vec![7, 8])).await.unwrap();
    assert_eq!(
        db.queries(),
        vec![vec![7, 8], vec![7]],
        "7, forgotten while the refresh ran, was not stored; 8 was"
    );
}

#[tokio::test]
async fn duplicates_are_asked_for_once_and_an_empty_batch_runs_nothing() {
    let (cache, db) = (own(), Db::default());
    let users = cache.scope(get_users(&db, vec![5, 5, 6, 5])).await.unwrap();
    assert_eq!(users.len(), 2);
    assert!(
        cache
            .scope(get_users(&db, vec![]))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.queries(), vec![vec![5, 6]]);
}

/// A slice of ids, a `BTreeMap` and another key argument: `region` is part of every item's key.
#[cached_query(batch(ids as id), tags = ["{region}:{id}"], skip(db))]
async fn labels(db: &Db, region: String, ids: &[u64]) -> BTreeMap<u64, String> {
    let users = db.load(ids).await.unwrap_or_default();
    users
        .into_iter()
        .map(|(id, name)| (id, format!("{region}/{name}")))
        .collect()
}

#[tokio::test]
async fn other_key_arguments_are_part_of_every_items_key() {
    let (cache, db) = (own(), Db::default());
    let eu = cache.scope(labels(&db, "eu".into(), &[1, 2])).await;
    assert_eq!(eu[&1], "eu/user 1");
    let us = cache.scope(labels(&db, "us".into(), &[1, 2])).await;
    assert_eq!(us[&1], "us/user 1");
    cache.scope(labels(&db, "eu".into(), &[2, 3])).await;
    assert_eq!(db.queries(), vec![vec![1, 2], vec![1, 2], vec![3]]);
    cache.invalidate_tag("us:2").await.unwrap();
    cache.scope(labels(&db, "us".into(), &[1, 2])).await;
    assert_eq!(db.queries()[3], vec![2]);
}

#[cached_query(batch, skip(db))]
async fn from_a_set(db: &Db, skus: HashSet<u64>) -> Result<HashMap<u64, String>, String> {
    db.load(&skus).await
}

#[cached_query(batch, skip(db))]
async fn from_a_tree(db: &Db, skus: &BTreeSet<u64>) -> Result<HashMap<u64, String>, String> {
    db.load(skus).await
}

#[tokio::test]
async fn sets_are_batches_too() {
    let (cache, db) = (own(), Db::default());
    let found = cache.scope(from_a_set(&db, HashSet::from([1, 2]))).await;
    assert_eq!(found.unwrap().len(), 2);
    cache
        .scope(from_a_set(&db, HashSet::from([2, 3])))
        .await
        .unwrap();
    let tree = BTreeSet::from([3, 4]);
    cache.scope(from_a_tree(&db, &tree)).await.unwrap();
    assert_eq!(db.queries(), vec![vec![1, 2], vec![3], vec![3, 4]]);
}

pub struct Repo {
    shard: u8,
    db: Db,
}

impl Repo {
    /// The receiver is in each item's key: two shards never share an entry.
    #[cached_query(batch, tags = ["shard:{self.shard}:{sku}"])]
    async fn stock(&self, skus: Vec<u64>) -> HashMap<u64, u32> {
        let _ = self.db.load(&skus).await;
        skus.into_iter()
            .map(|sku| (sku, u32::from(self.shard)))
            .collect()
    }
}

impl serde::Serialize for Repo {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.shard)
    }
}

#[tokio::test]
async fn methods_key_each_item_on_the_receiver() {
    let cache = own();
    let (a, b) = (
        Repo {
            shard: 1,
            db: Db::default(),
        },
        Repo {
            shard: 2,
            db: Db::default(),
        },
    );
    assert_eq!(cache.scope(a.stock(vec![7, 8])).await[&7], 1);
    assert_eq!(cache.scope(b.stock(vec![7])).await[&7], 2);
    cache.scope(a.stock(vec![7, 8])).await;
    assert_eq!((a.db.queries().len(), b.db.queries().len()), (1, 1));
    cache.invalidate_tag("shard:1:8").await.unwrap();
    cache.scope(a.stock(vec![7, 8])).await;
    assert_eq!(a.db.queries()[1], vec![8]);
}

#[cached_query(batch, condition = ids.len() <= 3, skip(db))]
async fn small_batches_only(db: &Db, ids: Vec<u64>) -> Result<HashMap<u64, String>, String> {
    db.load(&ids).await
}

#[tokio::test]
async fn a_false_condition_runs_the_whole_call_uncached() {
    let (cache, db) = (own(), Db::default());
    cache
        .scope(small_batches_only(&db, vec![1, 2, 3, 4]))
        .await
        .unwrap();
    cache
        .scope(small_batches_only(&db, vec![1, 2]))
        .await
        .unwrap();
    assert_eq!(db.queries(), vec![vec![1, 2, 3, 4], vec![1, 2]]);
    assert_eq!(counts_of(cache, "small_batches_only").bypassed, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_calls_can_be_spawned() {
    static DB: std::sync::LazyLock<Db> = std::sync::LazyLock::new(Db::default);
    let cache = own();
    let call = tokio::spawn(async move { cache.scope(get_users(&DB, vec![1])).await });
    assert_eq!(call.await.unwrap().unwrap().len(), 1);
}

/// A key whose `Serialize` fails for 13.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Unlucky(u64);

impl serde::Serialize for Unlucky {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 == 13 {
            return Err(serde::ser::Error::custom("13"));
        }
        serializer.serialize_u64(self.0)
    }
}

#[cached_query(batch, skip(db))]
async fn unlucky(db: &Db, ids: Vec<Unlucky>) -> HashMap<Unlucky, u64> {
    let plain: Vec<u64> = ids.iter().map(|id| id.0).collect();
    let _ = db.load(&plain).await;
    ids.into_iter().map(|id| (id, id.0)).collect()
}

#[tokio::test]
async fn an_item_that_cannot_be_encoded_makes_the_call_run_uncached_with_every_item() {
    let (cache, db) = (own(), Db::default());
    let ids = vec![Unlucky(12), Unlucky(13), Unlucky(14)];
    let answer = cache.scope(unlucky(&db, ids.clone())).await;
    assert_eq!(answer.len(), 3, "nothing lost");
    cache.scope(unlucky(&db, ids)).await;
    assert_eq!(
        db.queries(),
        vec![vec![12, 13, 14], vec![12, 13, 14]],
        "nothing cached"
    );
    assert_eq!(counts_of(cache, "unlucky").key_errors, 6);
}
