//! The shared tier (feature `redis`): Redis behind the in-memory store (DESIGN.md §9).
//!
//! * Values live in Redis hashes (`{ns}:v:{key}`) holding the tag generations they were computed
//!   under (`g`), a schema fingerprint (`s`), the kind (`k`: value or cached `None`) and the
//!   bincode payload (`p`). Tag generations live in `{ns}:t:{tag}`, starting from a random value
//!   so that an evicted and recreated counter cannot match an old snapshot.
//! * A miss costs one round trip: one script reads the tags' generations (creating missing ones)
//!   and returns the value only if it was computed under exactly those generations.
//! * Writes go through a bounded queue to a writer task: off the request path, dropped and
//!   counted when full. The write script refuses a value whose generations changed meanwhile.
//! * Invalidation is one script (`INCR` each tag, then `PUBLISH`). Every instance subscribes,
//!   bumps its local cells (dropping its in-memory copies) and acknowledges; the invalidating
//!   call waits for as many acknowledgements as `PUBLISH` reported receivers, within the budget.
//! * On (re)subscription an instance bumps its global epoch: messages sent while it was not
//!   listening are lost, so everything it holds in memory is treated as stale.
//! * Every operation runs on a small runtime of our own (the tier outlives any caller's runtime),
//!   under a timeout, behind a circuit breaker. A failure is a miss and a counter, never the
//!   caller's error.

use crate::codec;
use crate::tags::{EPOCH_TAG, TagRegistry};
use crate::tier::{
    BreakerState, Limits, Remote, SharedStats, Tier, TierError, TierFuture, TierStart, Write,
};
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Configuration of the shared tier: where Redis is and how long the cache may wait for it.
///
/// ```
/// use std::time::Duration;
/// use cached_query_runtime::{Config, RedisConfig};
///
/// let redis = RedisConfig::from_env() // `CACHED_QUERY_REDIS_URL`, if set
///     .unwrap_or_else(|| RedisConfig::new("redis://127.0.0.1:6379"))
///     .operation_timeout(Duration::from_millis(50));
/// let config = Config::new().namespace("shop").redis(redis);
/// # let _ = config;
/// ```
#[derive(Clone, Debug)]
pub struct RedisConfig {
    url: String,
    operation_timeout: Duration,
    connect_timeout: Duration,
    l1_ttl_cap: Duration,
    write_queue: usize,
    breaker_failures: u32,
    breaker_cooldown: Duration,
    max_value_bytes: usize,
}

impl RedisConfig {
    /// Redis at `url` (`redis://host:port/db`), with the defaults: 100 ms per operation and per
    /// connection attempt, in-memory copies kept at most 30 s, a write queue of 1,024, a breaker
    /// that opens after 5 consecutive failures for 1 s, values up to 16 MiB.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            operation_timeout: Duration::from_millis(100),
            connect_timeout: Duration::from_millis(100),
            l1_ttl_cap: Duration::from_secs(30),
            write_queue: 1024,
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(1),
            max_value_bytes: 16 * 1024 * 1024,
        }
    }

    /// The URL in the `CACHED_QUERY_REDIS_URL` environment variable, if it is set.
    pub fn from_env() -> Option<Self> {
        std::env::var("CACHED_QUERY_REDIS_URL").ok().map(Self::new)
    }

    /// The most a cached call waits for Redis before it goes on without it.
    pub fn operation_timeout(mut self, budget: Duration) -> Self {
        self.operation_timeout = budget;
        self
    }

    /// How long one connection attempt may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest an in-memory copy of a shared value is kept: it bounds how stale an instance
    /// can be if it misses invalidation messages without noticing.
    pub fn l1_ttl_cap(mut self, cap: Duration) -> Self {
        self.l1_ttl_cap = cap;
        self
    }

    /// How many writes may wait for Redis; more are dropped (and counted).
    pub fn write_queue(mut self, capacity: usize) -> Self {
        self.write_queue = capacity.max(1);
        self
    }

    /// Open the breaker after `failures` consecutive failures, for `cooldown`; then one probe
    /// decides whether it closes.
    pub fn breaker(mut self, failures: u32, cooldown: Duration) -> Self {
        self.breaker_failures = failures.max(1);
        self.breaker_cooldown = cooldown;
        self
    }

    /// Values larger than this (encoded) are neither written to nor read from Redis.
    pub fn max_value_bytes(mut self, bytes: usize) -> Self {
        self.max_value_bytes = bytes;
        self
    }
}

#[derive(Default)]
struct Counters {
    errors: AtomicU64,
    timeouts: AtomicU64,
    writes: AtomicU64,
    writes_dropped: AtomicU64,
    rejected: AtomicU64,
    invalidations_received: AtomicU64,
}

struct Breaker {
    state: Mutex<BreakerInner>,
    failures_to_open: u32,
    cooldown: Duration,
}

enum BreakerInner {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen,
}

impl Breaker {
    fn allow(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match *state {
            BreakerInner::Closed { .. } => true,
            BreakerInner::Open { until } if Instant::now() >= until => {
                *state = BreakerInner::HalfOpen;
                true
            }
            BreakerInner::Open { .. } | BreakerInner::HalfOpen => false,
        }
    }

    fn record(&self, ok: bool) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let was_closed = matches!(*state, BreakerInner::Closed { .. });
        *state = match (&*state, ok) {
            (_, true) => BreakerInner::Closed { failures: 0 },
            (BreakerInner::Closed { failures }, false) if failures + 1 < self.failures_to_open => {
                BreakerInner::Closed {
                    failures: failures + 1,
                }
            }
            (_, false) => BreakerInner::Open {
                until: Instant::now() + self.cooldown,
            },
        };
        let is_closed = matches!(*state, BreakerInner::Closed { .. });
        if was_closed != is_closed {
            let what = if is_closed {
                "breaker_closed"
            } else {
                "breaker_open"
            };
            shared_incident(what, "");
        }
    }

    fn state(&self) -> BreakerState {
        match *self.state.lock().unwrap_or_else(PoisonError::into_inner) {
            BreakerInner::Closed { .. } => BreakerState::Closed,
            BreakerInner::Open { until } if Instant::now() >= until => BreakerState::HalfOpen,
            BreakerInner::Open { .. } => BreakerState::Open,
            BreakerInner::HalfOpen => BreakerState::HalfOpen,
        }
    }
}

/// `{ns}:t:{tag}` keys for the generations of `tags`, then the random starts.
const READ: &str = r"
local ttl = tonumber(ARGV[2])
local gens = {}
for i = 2, #KEYS do
  local g = redis.call('GET', KEYS[i])
  if not g then
    g = ARGV[i + 1]
    redis.call('SET', KEYS[i], g, 'PX', ttl)
  else
    local left = redis.call('PTTL', KEYS[i])
    if left >= 0 and left < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
  gens[#gens + 1] = g
end
local joined = table.concat(gens, ',')
if ARGV[1] == '1' then
  local v = redis.call('HMGET', KEYS[1], 'g', 's', 'k', 'p')
  if v[1] and v[1] == joined then
    return {1, joined, v[2] or '', v[3] or '', v[4] or '', redis.call('PTTL', KEYS[1])}
  end
end
return {0, joined}
";

const WRITE: &str = r"
local gens = {}
for i = 2, #KEYS do
  local g = redis.call('GET', KEYS[i])
  if not g then return 0 end
  gens[#gens + 1] = g
end
if table.concat(gens, ',') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'g', ARGV[1], 's', ARGV[2], 'k', ARGV[3], 'p', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
";

const INVALIDATE: &str = r"
for i = 1, #KEYS do redis.call('INCR', KEYS[i]) end
return redis.call('PUBLISH', ARGV[1], ARGV[2])
";

/// The shared tier of one cache instance.
pub(crate) struct SharedTier {
    config: RedisConfig,
    prefix: String,
    instance: u64,
    runtime: tokio::runtime::Runtime,
    connection: Option<ConnectionManager>,
    client: Option<redis::Client>,
    breaker: Breaker,
    counters: Counters,
    subscribed: AtomicBool,
    connected: AtomicBool,
    next_message: AtomicU64,
    acks: Mutex<HashMap<u64, watch::Sender<u64>>>,
    writes: mpsc::Sender<Write>,
    read_script: Script,
    write_script: Script,
    invalidate_script: Script,
}

/// A random-enough 62-bit number (tag generation starts, instance ids) without a random crate:
/// `RandomState` is seeded from the OS once per process and perturbed per instance.
fn random_u62() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = RandomState::new();
    state.hash_one((COUNTER.fetch_add(1, Relaxed), Instant::now())) >> 2
}

impl SharedTier {
    /// Starts the tier. Never fails: an unparsable URL or an unreachable server makes every
    /// operation a counted failure, and the cache works from memory.
    pub(crate) fn start(
        config: RedisConfig,
        namespace: &str,
        tags: Arc<TagRegistry>,
    ) -> Option<Arc<Self>> {
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("cached-query-redis")
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                shared_incident("tier_not_started", &e.to_string());
                return None;
            }
        };
        let client = match redis::Client::open(config.url.as_str()) {
            Ok(client) => Some(client),
            Err(e) => {
                // Every operation will then fail fast and be counted as an error.
                shared_incident("invalid_url", &e.to_string());
                None
            }
        };
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.operation_timeout))
            .set_number_of_retries(1);
        let connection = client.as_ref().and_then(|client| {
            let _entered = runtime.enter();
            ConnectionManager::new_lazy_with_config(client.clone(), manager_config).ok()
        });
        let (writes, queue) = mpsc::channel(config.write_queue);
        let prefix = if namespace.is_empty() {
            "cq".to_string()
        } else {
            namespace.to_string()
        };
        let tier = Arc::new(SharedTier {
            breaker: Breaker {
                state: Mutex::new(BreakerInner::Closed { failures: 0 }),
                failures_to_open: config.breaker_failures,
                cooldown: config.breaker_cooldown,
            },
            config,
            prefix,
            instance: random_u62(),
            connection,
            client,
            counters: Counters::default(),
            subscribed: AtomicBool::new(false),
            connected: AtomicBool::new(false),
            next_message: AtomicU64::new(0),
            acks: Mutex::default(),
            writes,
            read_script: Script::new(READ),
            write_script: Script::new(WRITE),
            invalidate_script: Script::new(INVALIDATE),
            runtime,
        });
        tier.runtime.spawn(Arc::clone(&tier).write_behind(queue));
        tier.runtime.spawn(Arc::clone(&tier).listen(tags));
        Some(tier)
    }

    pub(crate) fn l1_ttl_cap(&self) -> Duration {
        self.config.l1_ttl_cap
    }

    pub(crate) fn max_value_bytes(&self) -> usize {
        self.config.max_value_bytes
    }

    pub(crate) fn count_rejected(&self) {
        self.counters.rejected.fetch_add(1, Relaxed);
        shared_incident("value_refused", "foreign schema, undecodable or too large");
    }

    fn value_key(&self, key: u128) -> String {
        format!("{}:v:{key:032x}", self.prefix)
    }

    fn tag_key(&self, tag: &str) -> String {
        format!("{}:t:{tag}", self.prefix)
    }

    fn channel(&self, kind: &str) -> String {
        format!("{}:{kind}", self.prefix)
    }

    /// Runs one operation on the tier's runtime, under the budget and the breaker.
    async fn run<T, F, Fut>(&self, op: F) -> Result<T, TierError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        if !self.breaker.allow() {
            self.counters.errors.fetch_add(1, Relaxed);
            return Err(TierError::Unavailable);
        }
        let Some(connection) = self.connection.clone() else {
            self.counters.errors.fetch_add(1, Relaxed);
            return Err(TierError::Unavailable);
        };
        let budget = self.config.operation_timeout;
        let operation = op(connection);
        let outcome = self
            .runtime
            .spawn(async move { tokio::time::timeout(budget, operation).await })
            .await;
        let result = match outcome {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(e))) => Err(TierError::Failed(e.to_string())),
            Ok(Err(_elapsed)) => Err(TierError::TimedOut),
            Err(join) => Err(TierError::Failed(join.to_string())),
        };
        self.breaker.record(result.is_ok());
        self.connected.store(result.is_ok(), Relaxed);
        match &result {
            Ok(_) => {}
            Err(TierError::TimedOut) => {
                self.counters.timeouts.fetch_add(1, Relaxed);
            }
            Err(_) => {
                self.counters.errors.fetch_add(1, Relaxed);
            }
        }
        result
    }

    /// Runs `script` with these keys and arguments.
    async fn eval<T>(
        &self,
        script: &Script,
        keys: Vec<String>,
        args: Vec<Vec<u8>>,
    ) -> Result<T, TierError>
    where
        T: redis::FromRedisValue + Send + 'static,
    {
        let script = script.clone();
        self.run(move |mut connection| async move {
            let mut invocation = script.prepare_invoke();
            for key in keys {
                invocation.key(key);
            }
            for arg in args {
                invocation.arg(arg);
            }
            invocation.invoke_async(&mut connection).await
        })
        .await
    }

    /// One round trip: the current generations of `tags` (created if missing) and, if
    /// `want_value`, the value of `key` if it was computed under exactly those generations.
    pub(crate) async fn read(
        &self,
        key: u128,
        tags: &[Box<str>],
        entry_ttl: Duration,
        want_value: bool,
    ) -> Result<Remote, TierError> {
        let mut keys = vec![self.value_key(key)];
        keys.extend(tags.iter().map(|tag| self.tag_key(tag)));
        let tag_ttl = entry_ttl.saturating_mul(2).max(Duration::from_secs(3600));
        let mut args = vec![
            if want_value {
                b"1".to_vec()
            } else {
                b"0".to_vec()
            },
            millis(tag_ttl),
        ];
        args.extend(tags.iter().map(|_| random_u62().to_string().into_bytes()));
        let value: Value = self.eval(&self.read_script, keys, args).await?;
        parse_read(value)
            .ok_or_else(|| TierError::Failed("unexpected reply to the read script".into()))
    }

    /// Queues `write`; drops it (and counts) when the queue is full.
    pub(crate) fn write(&self, write: Write) {
        if self.writes.try_send(write).is_err() {
            self.counters.writes_dropped.fetch_add(1, Relaxed);
        }
    }

    async fn write_behind(self: Arc<Self>, mut queue: mpsc::Receiver<Write>) {
        while let Some(write) = queue.recv().await {
            let mut keys = vec![self.value_key(write.key)];
            keys.extend(write.tags.iter().map(|tag| self.tag_key(tag)));
            let args = vec![
                write.generations,
                write.schema,
                if write.payload.is_some() {
                    b"v".to_vec()
                } else {
                    b"n".to_vec()
                },
                write.payload.unwrap_or_default(),
                millis(write.ttl.max(Duration::from_millis(1))),
            ];
            let written: Result<i64, TierError> = self.eval(&self.write_script, keys, args).await;
            if written.is_ok_and(|n| n == 1) {
                self.counters.writes.fetch_add(1, Relaxed);
            }
        }
    }

    /// Deletes the value of `key` (for `forget`).
    pub(crate) async fn delete(&self, key: u128) -> Result<bool, TierError> {
        let value_key = self.value_key(key);
        self.run(move |mut connection| async move {
            redis::cmd("DEL")
                .arg(value_key)
                .query_async::<i64>(&mut connection)
                .await
        })
        .await
        .map(|n| n > 0)
    }

    /// Bumps `tags` in Redis, tells every instance, and waits until each has applied it.
    pub(crate) async fn invalidate(&self, tags: &[&str]) -> Result<(), TierError> {
        if tags.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let id = self.next_message.fetch_add(1, Relaxed);
        let (acked, mut acks) = watch::channel(0u64);
        self.acks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, acked);
        let message = Message {
            origin: self.instance,
            id,
            tags: tags.iter().map(|t| (*t).to_string()).collect(),
        };
        let payload = encode_message(&message);
        let keys = tags.iter().map(|tag| self.tag_key(tag)).collect();
        let args = vec![self.channel("inv").into_bytes(), payload];
        let receivers: Result<u64, TierError> =
            self.eval(&self.invalidate_script, keys, args).await;
        let outcome = match receivers {
            Err(e) => Err(e),
            Ok(receivers) => {
                let budget = self
                    .config
                    .operation_timeout
                    .saturating_sub(started.elapsed());
                let waited = self
                    .runtime
                    .spawn(async move {
                        tokio::time::timeout(budget, async move {
                            acks.wait_for(|n| *n >= receivers).await.map(|_| ())
                        })
                        .await
                    })
                    .await;
                match waited {
                    Ok(Ok(Ok(_))) => Ok(()),
                    _ => Err(TierError::TimedOut),
                }
            }
        };
        self.acks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        outcome
    }

    /// Listens to invalidations (and acknowledgements) until the process ends, reconnecting.
    async fn listen(self: Arc<Self>, tags: Arc<TagRegistry>) {
        let Some(client) = self.client.clone() else {
            return;
        };
        let invalidations = self.channel("inv");
        let acks = self.channel("ack");
        let mut backoff = Duration::from_millis(50);
        loop {
            let connected = tokio::time::timeout(self.config.connect_timeout, async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&invalidations).await?;
                pubsub.subscribe(&acks).await?;
                redis::RedisResult::Ok(pubsub)
            })
            .await;
            if let Ok(Ok(pubsub)) = connected {
                backoff = Duration::from_millis(50);
                // Messages sent while this instance was not listening are lost: treat
                // everything it holds in memory as stale.
                tags.invalidate(EPOCH_TAG);
                self.subscribed.store(true, Relaxed);
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    let Some(decoded) = decode_message(message.get_payload_bytes()) else {
                        continue;
                    };
                    if message.get_channel_name() == invalidations {
                        self.counters.invalidations_received.fetch_add(1, Relaxed);
                        for tag in &decoded.tags {
                            tags.invalidate(tag);
                        }
                        self.acknowledge(&decoded).await;
                    } else if decoded.origin == self.instance {
                        let acks = self.acks.lock().unwrap_or_else(PoisonError::into_inner);
                        if let Some(acked) = acks.get(&decoded.id) {
                            acked.send_modify(|n| *n += 1);
                        }
                    }
                }
                self.subscribed.store(false, Relaxed);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }

    async fn acknowledge(&self, message: &Message) {
        let Some(connection) = self.connection.clone() else {
            return;
        };
        let ack = encode_message(&Message {
            origin: message.origin,
            id: message.id,
            tags: Vec::new(),
        });
        let channel = self.channel("ack");
        let mut connection = connection;
        let mut command = redis::cmd("PUBLISH");
        command.arg(channel).arg(ack);
        let publish = command.query_async::<i64>(&mut connection);
        // Best effort: a lost ack makes the invalidating call report a timeout, not a stale read.
        let _ = tokio::time::timeout(self.config.operation_timeout, publish).await;
    }

    pub(crate) fn stats(&self) -> SharedStats {
        SharedStats {
            connected: self.connected.load(Relaxed),
            subscribed: self.subscribed.load(Relaxed),
            breaker: self.breaker.state(),
            errors: self.counters.errors.load(Relaxed),
            timeouts: self.counters.timeouts.load(Relaxed),
            writes: self.counters.writes.load(Relaxed),
            writes_dropped: self.counters.writes_dropped.load(Relaxed),
            rejected: self.counters.rejected.load(Relaxed),
            invalidations_received: self.counters.invalidations_received.load(Relaxed),
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Message {
    origin: u64,
    id: u64,
    tags: Vec<String>,
}

fn millis(duration: Duration) -> Vec<u8> {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .to_string()
        .into_bytes()
}

fn encode_message(message: &Message) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Encoding plain integers and strings into a Vec cannot fail.
    let _ = codec::encode_into(message, &mut bytes);
    bytes
}

fn decode_message(bytes: &[u8]) -> Option<Message> {
    codec::decode_limited(bytes, 1024 * 1024)
}

fn parse_read(value: Value) -> Option<Remote> {
    let Value::Array(items) = value else {
        return None;
    };
    let bytes = |v: &Value| match v {
        Value::BulkString(b) => Some(b.clone()),
        Value::SimpleString(s) => Some(s.clone().into_bytes()),
        Value::Int(n) => Some(n.to_string().into_bytes()),
        _ => None,
    };
    let found = matches!(items.first(), Some(Value::Int(1)));
    let generations = bytes(items.get(1)?)?;
    if !found {
        return Some(Remote::Miss { generations });
    }
    let schema = bytes(items.get(2)?)?;
    let kind = bytes(items.get(3)?)?;
    let payload = bytes(items.get(4)?)?;
    let ttl_left = match items.get(5) {
        Some(Value::Int(ms)) if *ms > 0 => Some(Duration::from_millis(*ms as u64)),
        _ => None,
    };
    Some(Remote::Hit {
        generations,
        schema,
        payload: (kind != b"n").then_some(payload),
        ttl_left,
    })
}

impl Tier for SharedTier {
    fn read<'a>(
        &'a self,
        key: u128,
        tags: &'a [Box<str>],
        entry_ttl: Duration,
        want_value: bool,
    ) -> TierFuture<'a, Remote> {
        Box::pin(SharedTier::read(self, key, tags, entry_ttl, want_value))
    }

    fn write(&self, write: Write) {
        SharedTier::write(self, write);
    }

    fn delete(&self, key: u128) -> TierFuture<'_, bool> {
        Box::pin(SharedTier::delete(self, key))
    }

    fn invalidate<'a>(&'a self, tags: &'a [&'a str]) -> TierFuture<'a, ()> {
        Box::pin(SharedTier::invalidate(self, tags))
    }

    fn limits(&self) -> Limits {
        Limits {
            l1_ttl_cap: self.l1_ttl_cap(),
            max_value_bytes: self.max_value_bytes(),
        }
    }

    fn count_refused(&self) {
        self.count_rejected();
    }

    fn stats(&self) -> SharedStats {
        SharedTier::stats(self)
    }
}

impl crate::Config {
    /// Shares cached values and invalidations with every instance using the same Redis (and the
    /// same [`namespace`](Self::namespace)). Start-up never waits for Redis nor fails without it:
    /// the cache works from memory until Redis answers. Functions marked `local` stay in memory.
    ///
    /// ```
    /// use cached_query_runtime::{Config, RedisConfig};
    ///
    /// let config = Config::new().redis(RedisConfig::new("redis://127.0.0.1:6379"));
    /// # let _ = config;
    /// ```
    pub fn redis(mut self, redis: RedisConfig) -> Self {
        let describe = format!("{redis:?}");
        self.tier = Some(TierStart::new(describe, move |namespace, tags| {
            let tier: Arc<dyn Tier> =
                SharedTier::start(redis.clone(), namespace, Arc::clone(tags))?;
            Some(tier)
        }));
        self
    }
}

/// An incident of the shared tier: a breaker transition, a refused value, a failed operation.
#[inline]
pub(crate) fn shared_incident(what: &'static str, detail: &str) {
    #[cfg(feature = "tracing")]
    tracing::event!(
        target: "cached_query",
        tracing::Level::WARN,
        incident = what,
        detail,
        "shared store"
    );
    #[cfg(feature = "metrics")]
    metrics::counter!("cached_query_shared_incidents_total", "incident" => what).increment(1);
    let _ = (what, detail);
}
