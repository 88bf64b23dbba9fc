//! The batch engine driven by a function written as `#[cached_query(batch)]` expands it: which
//! items the body is asked for, what is stored, what concurrent and merged calls share, and
//! the shared tier read once for all the missing items.

use super::BatchEnter;
use crate::batching::{batch_codec_for, batch_items};
use crate::engine::enter_batch;
use crate::engine::tests::{Answer, FakeTier, instance};
use crate::key::BatchKeyBuilder;
use crate::policy::{OptionPolicy, ResultPolicy};
use crate::share::{ShareByClone as _, ShareProbe};
use crate::site::{Site, SiteConfig};
use crate::stats::Counts;
use crate::tier;
use crate::value::{SharedCodec, codec_for};
use crate::{Cache, Config, ManualClock};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

type Users = Result<BTreeMap<u64, String>, String>;

/// What the body was asked for, call by call; ids that are multiples of 10 do not exist.
#[derive(Clone, Default)]
struct Database {
    calls: Arc<Mutex<Vec<Vec<u64>>>>,
    failing: bool,
}

impl Database {
    fn calls(&self) -> Vec<Vec<u64>> {
        let mut calls = self
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        calls.iter_mut().for_each(|ids| ids.sort_unstable());
        calls
    }

    async fn load(&self, ids: Vec<u64>) -> Users {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(ids.clone());
        tokio::task::yield_now().await;
        if self.failing {
            return Err("database down".into());
        }
        let found = ids.into_iter().filter(|id| id % 10 != 0);
        Ok(found.map(|id| (id, format!("user {id}"))).collect())
    }
}

static SITE: Site = Site::new(SiteConfig {
    name: Some("engine::batch::tests::users"),
    cache_none: true,
    ..SiteConfig::DEFAULT
});

/// `#[cached_query(batch, tags = ["users", "user:{id}"], skip(db))]`, expanded by hand.
async fn users(db: Database, ids: Vec<u64>, merge: Option<u32>) -> Users {
    let instance = || {};
    let keys = {
        fn __cq_id() {}
        let mut key = BatchKeyBuilder::with_instance(&SITE, __cq_id, instance);
        key.item_here();
        key.finish()
    };
    let codec = batch_codec_for::<ResultPolicy, Users, u64, String>(codec_for::<
        OptionPolicy,
        Option<String>,
        _,
    >(instance));
    let items = batch_items::<u64, _, _>(ids, instance);
    let mut batch = match enter_batch(&SITE, keys, codec, items).await {
        BatchEnter::Hit(users) => return users,
        BatchEnter::Miss(batch) => batch,
    };
    batch.tag_items(|miss, id| {
        miss.tag("users");
        miss.tag_fmt(format_args!("user:{id}"));
    });
    if let Some(max_batch) = merge {
        batch.merge(2, max_batch);
    }
    batch.share_clones((&&ShareProbe::<Users>::new()).probe());
    batch
        .run(move |ids: Vec<u64>| async move { db.load(ids).await })
        .await
}

fn counts(cache: Cache) -> Counts {
    let stats = cache.stats();
    let row = stats.function("engine::batch::tests::users");
    row.map(|row| row.counts).unwrap_or_default()
}

/// Runs `call` in `cache`, in a task of its own.
fn spawn(
    cache: Cache,
    call: impl Future<Output = Users> + Send + 'static,
) -> tokio::task::JoinHandle<Users> {
    tokio::spawn(async move { cache.scope(call).await })
}

fn own() -> Cache {
    Cache::new(Config::new().ttl_jitter(0.0))
}

#[tokio::test]
async fn only_the_missing_items_are_asked_for_then_nothing() {
    let (cache, db) = (own(), Database::default());
    let warm: Vec<u64> = (1..=150).collect();
    cache.scope(users(db.clone(), warm, None)).await.ok();
    let all: Vec<u64> = (1..=200).collect();
    let answer = cache.scope(users(db.clone(), all.clone(), None)).await;
    let answer = answer.unwrap_or_default();
    assert_eq!(answer.len(), 180, "every id but the multiples of 10");
    assert_eq!(answer.get(&151).map(String::as_str), Some("user 151"));
    assert_eq!(db.calls()[1], (151..=200).collect::<Vec<_>>());
    assert_eq!(
        cache.scope(users(db.clone(), all, None)).await.ok(),
        Some(answer)
    );
    assert_eq!(db.calls().len(), 2, "the third call ran nothing");
    let counts = counts(cache);
    assert_eq!((counts.hits, counts.misses), (150 + 200, 200));
}

#[tokio::test]
async fn duplicates_are_one_item_and_an_empty_batch_runs_nothing() {
    let (cache, db) = (own(), Database::default());
    let answer = cache.scope(users(db.clone(), vec![3, 3, 4, 3], None)).await;
    assert_eq!(answer.map(|a| a.len()), Ok(2));
    assert_eq!(db.calls(), vec![vec![3, 4]]);
    assert_eq!(
        cache.scope(users(db.clone(), vec![], None)).await,
        Ok(BTreeMap::new())
    );
    assert_eq!(db.calls().len(), 1);
}

#[tokio::test]
async fn an_error_is_returned_and_nothing_is_cached() {
    let (cache, db) = (own(), Database::default());
    let failing = Database {
        failing: true,
        ..db.clone()
    };
    let failed = cache.scope(users(failing, vec![1, 2], None)).await;
    assert_eq!(failed, Err("database down".into()));
    assert_eq!(
        cache
            .scope(users(db.clone(), vec![1, 2], None))
            .await
            .map(|a| a.len()),
        Ok(2)
    );
    assert_eq!(db.calls(), vec![vec![1, 2], vec![1, 2]]);
}

#[tokio::test]
async fn an_absent_item_is_cached_as_absent() {
    let (cache, db) = (own(), Database::default());
    cache
        .scope(users(db.clone(), vec![10, 11], None))
        .await
        .ok();
    let again = cache.scope(users(db.clone(), vec![10, 11], None)).await;
    assert_eq!(
        again.map(|a| a.into_keys().collect::<Vec<_>>()),
        Ok(vec![11])
    );
    assert_eq!(db.calls().len(), 1, "10 is known to be absent");
}

#[tokio::test]
async fn invalidating_one_items_tag_loads_only_that_item_again() {
    let (cache, db) = (own(), Database::default());
    cache
        .scope(users(db.clone(), vec![1, 2, 3], None))
        .await
        .ok();
    cache.invalidate_tag("user:2").await.ok();
    cache
        .scope(users(db.clone(), vec![1, 2, 3], None))
        .await
        .ok();
    assert_eq!(db.calls(), vec![vec![1, 2, 3], vec![2]]);
}

#[tokio::test]
async fn forgetting_a_one_item_call_forgets_that_item() {
    let (cache, db) = (own(), Database::default());
    cache.scope(users(db.clone(), vec![1, 2], None)).await.ok();
    let forgot = cache
        .scope(crate::forget(users(db.clone(), vec![2], None)))
        .await;
    assert!(forgot);
    cache.scope(users(db.clone(), vec![1, 2], None)).await.ok();
    assert_eq!(db.calls(), vec![vec![1, 2], vec![2]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_concurrent_batches_load_each_item_once() {
    let (cache, db) = (own(), Database::default());
    let first = spawn(cache, users(db.clone(), (1..=100).collect(), None));
    let second = spawn(cache, users(db.clone(), (50..=150).collect(), None));
    let (first, second) = (first.await, second.await);
    assert_eq!(first.ok().and_then(Result::ok).map(|a| a.len()), Some(90));
    assert_eq!(second.ok().and_then(Result::ok).map(|a| a.len()), Some(90));
    let mut loaded: Vec<u64> = db.calls().concat();
    loaded.sort_unstable();
    assert_eq!(loaded, (1..=150).collect::<Vec<_>>(), "each id once");
}

#[tokio::test]
async fn merged_single_calls_are_one_body_call_when_the_window_closes() {
    let clock = ManualClock::new();
    let cache = Cache::new(Config::new().clock(clock.clone()).ttl_jitter(0.0));
    let db = Database::default();
    let calls: Vec<_> = (1..=3)
        .map(|id| spawn(cache, users(db.clone(), vec![id], Some(500))))
        .collect();
    crate::engine::tests::settle().await;
    assert!(db.calls().is_empty(), "the window is still open");
    clock.advance(Duration::from_millis(2));
    for call in calls {
        assert_eq!(
            call.await.ok().and_then(Result::ok).map(|a| a.len()),
            Some(1)
        );
    }
    assert_eq!(db.calls(), vec![vec![1, 2, 3]]);
}

#[tokio::test]
async fn a_full_window_goes_without_waiting() {
    let cache = Cache::new(Config::new().clock(ManualClock::new()));
    let db = Database::default();
    let calls: Vec<_> = (1..=1_000)
        .map(|id| (id, spawn(cache, users(db.clone(), vec![id], Some(500)))))
        .collect();
    for (id, call) in calls {
        let answer = call.await.ok().and_then(Result::ok);
        assert_eq!(answer.map(|a| a.contains_key(&id)), Some(id % 10 != 0));
    }
    let sizes: Vec<usize> = db.calls().iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![500, 500], "the clock never moved");
}

#[tokio::test]
async fn the_shared_tier_is_read_once_for_every_missing_item() {
    let fake = FakeTier::new(Answer::Miss);
    let cache = instance(&fake);
    let db = Database::default();
    cache
        .scope(users(db.clone(), (1..=20).collect(), None))
        .await
        .ok();
    assert_eq!(fake.read_batches(), 1, "one round trip for 20 items");
    assert_eq!(
        fake.written(),
        20,
        "each item written behind (the absent ones too)"
    );
    assert_eq!(db.calls().len(), 1);
}

#[tokio::test]
async fn items_found_in_the_shared_tier_are_not_computed() {
    let text = SharedCodec::of::<String>().map(|codec| {
        let payload = tier::encode(limits(), codec, &"from the tier".to_string());
        (tier::schema_fingerprint(codec), payload.unwrap_or_default())
    });
    let (schema, payload) = text.unwrap_or_default();
    let fake = FakeTier::new(Answer::Garbage { schema, payload });
    let cache = instance(&fake);
    let db = Database::default();
    let answer = cache.scope(users(db.clone(), vec![1, 2], None)).await;
    let expected = BTreeMap::from([(1, "from the tier".into()), (2, "from the tier".into())]);
    assert_eq!(answer, Ok(expected));
    assert!(db.calls().is_empty());
    assert_eq!((counts(cache).remote_hits, fake.read_batches()), (2, 1));
}

#[tokio::test]
async fn a_foreign_value_in_the_shared_tier_is_refused_and_computed() {
    let fake = FakeTier::new(Answer::Value(7));
    let cache = instance(&fake);
    let db = Database::default();
    // The fake's value is a `u32`, not this function's `String`.
    let answer = cache.scope(users(db.clone(), vec![1, 2], None)).await;
    assert_eq!(answer.map(|a| a.len()), Ok(2));
    assert_eq!(db.calls(), vec![vec![1, 2]]);
    assert_eq!(fake.refused(), 2);
}

fn limits() -> tier::Limits {
    tier::Limits {
        l1_ttl_cap: Duration::from_secs(60),
        max_value_bytes: 1024,
    }
}

#[tokio::test(start_paused = true)]
async fn a_stalled_tier_costs_a_batch_one_budget_and_the_call_succeeds() {
    let fake = FakeTier::new(Answer::Stall);
    let cache = instance(&fake);
    let db = Database::default();
    let started = tokio::time::Instant::now();
    let answer = cache
        .scope(users(db.clone(), (1..=20).collect(), None))
        .await;
    // The paused clock only moves for the tier's own timer: one budget for the 20 items.
    assert_eq!(started.elapsed(), crate::engine::tests::BUDGET);
    assert_eq!(answer.map(|a| a.len()), Ok(18));
    assert_eq!(fake.written(), 0, "no generations to write under");
    assert_eq!(db.calls().len(), 1);
}
