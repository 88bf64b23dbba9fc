//! The engine driven through a fake shared tier: read-through hits, misses written behind, and a
//! tier that stalls, fails or answers garbage. Each asserts the caller's result and the counters.

use crate::Cache;
use crate::Config;
use crate::engine::{Enter, cooperate, enter};
use crate::key::KeyBuilder;
use crate::policy::ValuePolicy;
use crate::site::{Site, SiteConfig};
use crate::stats::Counts;
use crate::tier::{
    self, Limits, Remote, RemoteRead, SharedStats, Tier, TierError, TierFuture, TierStart, Write,
};
use crate::value::{SharedCodec, codec};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub(crate) const BUDGET: Duration = Duration::from_millis(100);

/// What the fake answers to every read.
#[derive(Clone)]
pub(crate) enum Answer {
    /// A value of the function's type, under the current generations.
    Value(u32),
    Miss,
    /// Never answers within the budget; gives up when it runs out, as a tier must.
    Stall,
    Fail,
    /// A hit whose bytes are not a value of the function's type.
    Garbage {
        schema: Vec<u8>,
        payload: Vec<u8>,
    },
}

pub(crate) struct FakeTier {
    answer: Answer,
    reads: AtomicU64,
    /// Calls of `read_many` (each one round trip, however many keys).
    read_batches: AtomicU64,
    refused: AtomicU64,
    writes: Mutex<Vec<Write>>,
    fail_invalidations: bool,
}

impl FakeTier {
    pub(crate) fn new(answer: Answer) -> Arc<Self> {
        Arc::new(FakeTier {
            answer,
            reads: AtomicU64::new(0),
            read_batches: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            writes: Mutex::new(Vec::new()),
            fail_invalidations: false,
        })
    }

    pub(crate) fn read_batches(&self) -> u64 {
        self.read_batches.load(SeqCst)
    }

    pub(crate) fn refused(&self) -> u64 {
        self.refused.load(SeqCst)
    }

    pub(crate) fn written(&self) -> usize {
        self.writes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

fn u32_codec() -> SharedCodec {
    SharedCodec::of::<u32>().expect("u32 is shared")
}

impl Tier for FakeTier {
    fn read<'a>(
        &'a self,
        _: u128,
        _: &'a [&'a str],
        _: Duration,
        _: bool,
    ) -> TierFuture<'a, Remote> {
        self.reads.fetch_add(1, SeqCst);
        let generations = b"1,1,1".to_vec();
        Box::pin(async move {
            match self.answer.clone() {
                Answer::Value(value) => Ok(Remote::Hit {
                    schema: crate::remote_hit::schema_of(&tier::schema_fingerprint(u32_codec())),
                    payload: tier::encode(self.limits(), u32_codec(), &value),
                    ttl_left: None,
                    generations: generations.into(),
                }),
                Answer::Miss => Ok(Remote::Miss { generations }),
                Answer::Stall => {
                    tokio::time::sleep(BUDGET).await;
                    Err(TierError::TimedOut)
                }
                Answer::Fail => Err(TierError::Failed("connection refused".into())),
                Answer::Garbage { schema, payload } => Ok(Remote::Hit {
                    schema: crate::remote_hit::schema_of(&schema),
                    payload: Some(payload),
                    ttl_left: None,
                    generations: generations.into(),
                }),
            }
        })
    }

    /// One round trip for all of them, as the Redis tier's script: a stall costs one budget.
    fn read_many<'a>(&'a self, reads: &'a [RemoteRead<'a>]) -> TierFuture<'a, Vec<Remote>> {
        self.read_batches.fetch_add(1, SeqCst);
        Box::pin(async move {
            if let Answer::Stall = self.answer {
                tokio::time::sleep(BUDGET).await;
                return Err(TierError::TimedOut);
            }
            let mut remotes = Vec::with_capacity(reads.len());
            for read in reads {
                remotes.push(
                    self.read(read.key, read.tags, read.entry_ttl, read.want_value)
                        .await?,
                );
            }
            Ok(remotes)
        })
    }

    fn write(&self, write: Write) {
        self.writes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(write);
    }

    fn delete(&self, _: u128) -> TierFuture<'_, bool> {
        Box::pin(async { Ok(false) })
    }

    fn invalidate<'a>(&'a self, _: &'a [&'a str]) -> TierFuture<'a, ()> {
        let fail = self.fail_invalidations;
        Box::pin(async move {
            if fail {
                Err(TierError::Unavailable)
            } else {
                Ok(())
            }
        })
    }

    fn limits(&self) -> Limits {
        Limits {
            l1_ttl_cap: Duration::from_secs(60),
            max_value_bytes: 1024,
        }
    }

    fn count_refused(&self) {
        self.refused.fetch_add(1, SeqCst);
    }

    fn stats(&self) -> SharedStats {
        SharedStats {
            connected: true,
            subscribed: true,
            breaker: crate::tier::BreakerState::Closed,
            errors: 0,
            timeouts: 0,
            writes: self.written() as u64,
            writes_dropped: 0,
            writes_refused: 0,
            rejected: self.refused.load(SeqCst),
            invalidations_received: 0,
            invalidations_failed: 0,
            invalidations_pending: 0,
            invalidations_replayed: 0,
            remote_coalesced: 0,
            caller_runtime_reads: 0,
            node_reads: 0,
        }
    }
}

pub(crate) fn instance(fake: &Arc<FakeTier>) -> Cache {
    let mut config = Config::new().ttl_jitter(0.0);
    let tier: Arc<dyn Tier> = fake.clone();
    config.tier = Some(TierStart::new("fake".into(), move |_, _| {
        Some(Arc::clone(&tier))
    }));
    Cache::new(config)
}

static SITE: Site = Site::new(SiteConfig {
    name: Some("engine::tests::price"),
    ..SiteConfig::DEFAULT
});

/// A cached function as `#[cached_query]` expands it: `price(id)` is `id * 10`.
async fn price(id: u32, runs: &AtomicU32) -> u32 {
    let mut key = KeyBuilder::new(&SITE, || {});
    key.arg(&id);
    cooperate().await;
    match enter(&SITE, key.finish(), codec::<ValuePolicy, u32>()) {
        Enter::Hit(value) => value,
        Enter::Miss(mut miss) => {
            miss.tag_fmt(format_args!("item:{id}"));
            miss.run(async {
                runs.fetch_add(1, SeqCst);
                id * 10
            })
            .await
        }
    }
}

fn counts(cache: Cache) -> Counts {
    cache
        .stats()
        .function("engine::tests::price")
        .map(|row| row.counts)
        .unwrap_or_default()
}

#[tokio::test]
async fn a_value_in_the_tier_is_a_remote_hit_then_a_memory_hit() {
    let fake = FakeTier::new(Answer::Value(77));
    let cache = instance(&fake);
    let runs = AtomicU32::new(0);
    assert_eq!(cache.scope(price(1, &runs)).await, 77, "the tier's value");
    assert_eq!(cache.scope(price(1, &runs)).await, 77, "now from memory");
    assert_eq!(runs.load(SeqCst), 0, "the body never ran");
    assert_eq!(
        fake.reads.load(SeqCst),
        1,
        "memory answered the second call"
    );
    let counts = counts(cache);
    assert_eq!((counts.misses, counts.remote_hits, counts.hits), (1, 1, 1));
    assert_eq!(fake.written(), 0);
}

#[tokio::test]
async fn a_miss_in_the_tier_runs_the_body_and_writes_behind_under_its_tags() {
    let fake = FakeTier::new(Answer::Miss);
    let cache = instance(&fake);
    let runs = AtomicU32::new(0);
    assert_eq!(cache.scope(price(2, &runs)).await, 20);
    assert_eq!(runs.load(SeqCst), 1);
    let writes = fake.writes.lock().unwrap_or_else(PoisonError::into_inner);
    let [write] = writes.as_slice() else {
        panic!("one write expected, got {}", writes.len());
    };
    assert_eq!(
        write.generations, b"1,1,1",
        "written under the generations read"
    );
    assert_eq!(write.tags[1].as_ref(), crate::tags::EPOCH_TAG);
    assert_eq!(
        write.tags[2].as_ref(),
        "item:2",
        "function, epoch, then the user's tags"
    );
    assert_eq!(write.schema, tier::schema_fingerprint(u32_codec()));
    let decoded = tier::decode(
        fake.limits(),
        u32_codec(),
        crate::remote_hit::schema_of(&write.schema),
        write.payload.clone(),
    );
    let value = decoded
        .as_ref()
        .and_then(|v| v.value())
        .and_then(|v| v.downcast_ref::<u32>());
    assert_eq!(value, Some(&20));
    drop(writes); // `stats()` asks the fake for its writes too
    let counts = counts(cache);
    assert_eq!((counts.misses, counts.remote_hits, counts.hits), (1, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn a_stalled_tier_costs_one_budget_and_the_call_succeeds() {
    let fake = FakeTier::new(Answer::Stall);
    let cache = instance(&fake);
    let runs = AtomicU32::new(0);
    let started = tokio::time::Instant::now();
    assert_eq!(cache.scope(price(3, &runs)).await, 30);
    // The paused clock only moves for the tier's own timer: exactly one budget was spent.
    assert_eq!(started.elapsed(), BUDGET);
    assert_eq!(runs.load(SeqCst), 1);
    assert_eq!(fake.written(), 0, "no generations to write under");
    assert_eq!(cache.scope(price(3, &runs)).await, 30, "kept in memory");
    assert_eq!(fake.reads.load(SeqCst), 1);
    let counts = counts(cache);
    assert_eq!((counts.misses, counts.hits, counts.errors), (1, 1, 0));
}

#[tokio::test]
async fn a_failing_tier_is_a_miss_not_the_callers_error() {
    let fake = FakeTier::new(Answer::Fail);
    let cache = instance(&fake);
    let runs = AtomicU32::new(0);
    assert_eq!(cache.scope(price(4, &runs)).await, 40);
    assert_eq!(cache.scope(price(4, &runs)).await, 40);
    assert_eq!(runs.load(SeqCst), 1, "the value stayed in memory");
    assert_eq!(fake.written(), 0);
    let counts = counts(cache);
    assert_eq!((counts.misses, counts.hits, counts.errors), (1, 1, 0));
}

#[tokio::test]
async fn garbage_from_the_tier_is_refused_recomputed_and_overwritten() {
    let foreign_schema = Answer::Garbage {
        schema: b"not-our-type".to_vec(),
        payload: vec![1, 2, 3],
    };
    let undecodable = Answer::Garbage {
        schema: tier::schema_fingerprint(u32_codec()),
        payload: vec![0xff; 9],
    };
    for answer in [foreign_schema, undecodable] {
        let fake = FakeTier::new(answer);
        let cache = instance(&fake);
        let runs = AtomicU32::new(0);
        assert_eq!(cache.scope(price(5, &runs)).await, 50, "never the garbage");
        assert_eq!(runs.load(SeqCst), 1);
        assert_eq!(fake.refused.load(SeqCst), 1, "counted as refused");
        assert_eq!(fake.written(), 1, "overwritten with the computed value");
        assert_eq!(cache.stats().shared.map(|s| s.rejected), Some(1));
        let counts = counts(cache);
        assert_eq!((counts.misses, counts.remote_hits), (1, 0));
    }
}

#[tokio::test]
async fn an_unconfirmed_invalidation_is_an_error_but_memory_is_invalidated() {
    let fake = Arc::new(FakeTier {
        fail_invalidations: true,
        ..Arc::into_inner(FakeTier::new(Answer::Fail)).expect("not shared yet")
    });
    let cache = instance(&fake);
    let runs = AtomicU32::new(0);
    assert_eq!(cache.scope(price(6, &runs)).await, 60);
    assert!(cache.invalidate_tag("item:6").await.is_err());
    assert_eq!(cache.scope(price(6, &runs)).await, 60);
    assert_eq!(runs.load(SeqCst), 2, "the in-memory entry was dropped");
    assert_eq!(counts(cache).stale, 1);
}

/// Lets every spawned task of a current-thread runtime run until it waits for something.
pub(crate) async fn settle() {
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
}
