//! The shared tier on a Redis Cluster, where a script may touch the keys of one slot only.
//!
//! A value and its tags' generation counters hash to different slots (a tag is shared by values
//! all over the cluster, so no hash tag can put them together). So each operation becomes one
//! small single-key script per key, all sent at once (the cluster connection routes each to its
//! node; the caller waits for the slowest, one round trip), and what the one-server scripts
//! decide inside Redis is decided here:
//!
//! * **Read** (after `plain_read.rs` found no hit by plain commands): the tags' generations
//!   (created at a random start if missing, TTL extended) and the value are read side by
//!   side; the value is a hit only if the generations stored
//!   with it are exactly the ones just read. Not atomic, and it need not be: the caller
//!   snapshotted its in-memory stamps before reading, so an invalidation acknowledged after that
//!   makes the copy stale on arrival, and one applied before is seen by the counters read after.
//! * **Write**: a script per value, which checks the key's put fence (in the value's own header,
//!   so in its slot) but not the generations: the check the one-server script makes at write
//!   time is only an early refusal, since a value written under generations that moved since
//!   is never read as a hit (every read compares them).
//! * **Invalidation**: each tag bumped by its own script, then the message published on a
//!   sharded channel (`SPUBLISH`, whose reply counts the instances subscribed on that shard).

use super::SharedTier;
use super::connection::Connection;
use super::operation::{Requests, invoke};
use super::protocol::{ReadReply, millis, parse_read};
use super::random_u62;
use crate::tier::{RemoteRead, TierError, Write};
use futures_util::future::try_join_all;
use redis::{Script, Value};
use std::time::Duration;

/// A tag's generation, created at `ARGV[1]` (TTL `ARGV[2]` ms) if missing, its TTL extended to
/// at least `ARGV[2]`. A key that is not a counter of ours is replaced. Reply: `{generation,
/// foreign}`.
const TAG_READ: &str = r"
local g = redis.pcall('GET', KEYS[1])
local foreign = 0
if type(g) == 'table' then
  redis.call('DEL', KEYS[1])
  g = false
  foreign = 1
end
if not g then
  g = ARGV[1]
  redis.call('SET', KEYS[1], g, 'PX', ARGV[2])
else
  local left = redis.call('PTTL', KEYS[1])
  if left >= 0 and left < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
end
return {g, foreign}
";

/// A value and its put fence (see `scripts.rs`): `{1, generations, schema, kind,
/// payload, ttl_left, fence}`, `{0, fence}` if there is none (or `ARGV[1]` is not `1`: only the
/// fence is wanted), `{2, fence}` if the key holds something we did not write.
const VALUE_READ: &str = concat!(
    super::scripts::fence_lua!(),
    r"
local kind = redis.call('TYPE', KEYS[1])['ok']
if ARGV[1] ~= '1' then return {0, fence_of(KEYS[1], kind)} end
local v = value_of(KEYS[1], kind)
if v then
  return {1, v.g, v.s, v.k, v.p, redis.call('PTTL', KEYS[1]), v.w}
elseif kind ~= 'none' then
  return {2, ''}
end
return {0, ''}
"
);

/// Replaces whatever is under `KEYS[1]` with a value unless a put fenced the key since the
/// value's read (the generations are not checked here: every read compares them): `ARGV` the
/// snapshot, schema, kind, payload, TTL (ms). Reply: 1 if written, 0 if refused.
const VALUE_WRITE: &str = concat!(
    super::scripts::fence_lua!(),
    r"
local gens, fence = split_snapshot(ARGV[1])
local unfenced, leaves = fence_check(KEYS[1], fence)
if not unfenced then return 0 end
store(KEYS[1], gens, leaves, ARGV[2], ARGV[3], ARGV[4], ARGV[5])
return 1
"
);

/// Bumps one tag; a missing counter stays missing, one that is not a number is deleted (see
/// `scripts::INVALIDATE`).
const TAG_BUMP: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  local bumped = redis.pcall('INCR', KEYS[1])
  if type(bumped) == 'table' then redis.call('DEL', KEYS[1]) end
end
return 1
";

/// The single-key scripts a cluster tier runs.
pub(super) struct ClusterScripts {
    tag_read: Script,
    value_read: Script,
    value_write: Script,
    tag_bump: Script,
}

impl Default for ClusterScripts {
    fn default() -> Self {
        Self {
            tag_read: Script::new(TAG_READ),
            value_read: Script::new(VALUE_READ),
            value_write: Script::new(VALUE_WRITE),
            tag_bump: Script::new(TAG_BUMP),
        }
    }
}

/// One single-key script call: the script, its key, its arguments.
type ScriptCall = (Script, String, Vec<Vec<u8>>);

/// Every call at once, each on its own clone of the connection (the cluster connection routes
/// each to its key's node): one wait, for the slowest. The replies in the calls' order.
async fn invoke_all(
    calls: Vec<ScriptCall>,
    connection: Connection,
) -> redis::RedisResult<Vec<Value>> {
    try_join_all(
        calls
            .into_iter()
            .map(|(script, key, args)| invoke(script, [key], args, connection.clone())),
    )
    .await
}

impl SharedTier {
    /// [`read_many`](SharedTier::read_many) on a cluster: every key's script at once, the
    /// answers put together here.
    pub(super) async fn cluster_read_many(
        &self,
        budget: Duration,
        reads: &[RemoteRead<'_>],
    ) -> Result<Vec<ReadReply>, TierError> {
        let scripts = &self.cluster_scripts;
        // Per read: the value's script (if wanted), then each tag's.
        let mut calls = Vec::new();
        for read in reads {
            // Wanted or not, the value's script reads the key's put fence for the snapshot.
            let want = if read.want_value { b"1" } else { b"0" };
            calls.push((
                scripts.value_read.clone(),
                self.value_key(read.key),
                vec![want.to_vec()],
            ));
            let ttl = millis(super::tier_impl::tag_ttl(read.entry_ttl));
            for tag in read.tags {
                let start = random_u62().to_string().into_bytes();
                calls.push((
                    scripts.tag_read.clone(),
                    self.tag_key(tag),
                    vec![start, ttl.clone()],
                ));
            }
        }
        let answers: Vec<Value> = self
            .read_within(budget, Requests::InTurn, move |connection| {
                invoke_all(calls, connection)
            })
            .await?;
        let unexpected = || TierError::Failed("unexpected reply to a read script".into());
        let mut answers = answers.into_iter();
        let mut replies = Vec::with_capacity(reads.len());
        for read in reads {
            let value = answers.next().ok_or_else(unexpected)?;
            let mut generations = Vec::with_capacity(read.tags.len());
            let mut foreign = false;
            for _ in read.tags {
                let (generation, replaced) =
                    parse_tag(answers.next().ok_or_else(unexpected)?).ok_or_else(unexpected)?;
                generations.push(generation);
                foreign |= replaced;
            }
            let joined = generations.join(",");
            replies.push(judge(value, joined, foreign).ok_or_else(unexpected)?);
        }
        Ok(replies)
    }

    /// Writes `batch` on a cluster within `budget`: one script per value, all at once. How many
    /// were written.
    pub(super) async fn cluster_write_batch(
        &self,
        budget: Duration,
        batch: Vec<Write>,
    ) -> Result<u64, TierError> {
        let script = &self.cluster_scripts.value_write;
        let calls: Vec<_> = batch
            .into_iter()
            .map(|write| {
                let kind = if write.payload.is_some() { "v" } else { "n" };
                let args = vec![
                    write.generations,
                    write.schema,
                    kind.as_bytes().to_vec(),
                    write.payload.unwrap_or_default(),
                    millis(write.ttl.max(Duration::from_millis(1))),
                ];
                (script.clone(), self.value_key(write.key), args)
            })
            .collect();
        let written: Vec<Value> = self
            .run_within(budget, move |connection| invoke_all(calls, connection))
            .await?;
        Ok(written
            .iter()
            .filter(|w| matches!(w, Value::Int(1)))
            .count() as u64)
    }

    /// Bumps `tags` on a cluster (each by its own script, all at once), then publishes
    /// `message` on the sharded channel. How many instances received it.
    pub(super) async fn cluster_bump_and_publish(
        &self,
        tags: &[String],
        message: Vec<u8>,
    ) -> Result<u64, TierError> {
        let script = &self.cluster_scripts.tag_bump;
        let calls: Vec<_> = tags
            .iter()
            .map(|tag| (script.clone(), self.tag_key(tag), Vec::new()))
            .collect();
        let channel = self.channel("inv");
        self.run_within(
            self.config.operation_timeout,
            move |connection| async move {
                let mut publisher = connection.clone();
                invoke_all(calls, connection).await?;
                redis::cmd("SPUBLISH")
                    .arg(channel)
                    .arg(message)
                    .query_async::<u64>(&mut publisher)
                    .await
            },
        )
        .await
    }
}

/// A tag script's reply: the generation, and whether foreign data was replaced.
fn parse_tag(value: Value) -> Option<(String, bool)> {
    let Value::Array(items) = value else {
        return None;
    };
    let generation = match items.first()? {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok()?,
        Value::SimpleString(s) => s.clone(),
        Value::Int(n) => n.to_string(),
        _ => return None,
    };
    let foreign = matches!(items.get(1), Some(Value::Int(1)));
    Some((generation, foreign))
}

/// What the value's script's answer and the current generations make: the reply the
/// one-server read script would have given (its snapshot `generations|fence`), understood by
/// the same parser.
fn judge(value: Value, joined: String, tag_foreign: bool) -> Option<ReadReply> {
    let Value::Array(items) = value else {
        return None;
    };
    let status = match items.first() {
        Some(Value::Int(status)) => *status,
        _ => return None,
    };
    let fence = match items.get(if status == 1 { 6 } else { 1 })? {
        Value::BulkString(bytes) => bytes.as_slice(),
        _ => return None,
    };
    let mut snapshot = joined.clone().into_bytes();
    snapshot.push(b'|');
    snapshot.extend_from_slice(fence);
    let snapshot = Value::BulkString(snapshot);
    let miss = |foreign: bool| {
        parse_read(Value::Array(vec![
            Value::Int(if foreign { 2 } else { 0 }),
            snapshot.clone(),
        ]))
    };
    match status {
        1 => {}
        2 => return miss(true),
        _ => return miss(tag_foreign),
    }
    let stored = match items.get(1)? {
        Value::BulkString(bytes) => bytes.as_slice(),
        _ => return None,
    };
    if tag_foreign || stored != joined.as_bytes() {
        return miss(tag_foreign);
    }
    let mut reply = vec![Value::Int(1), snapshot.clone()];
    reply.extend(items.into_iter().skip(2).take(4));
    parse_read(Value::Array(reply))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tier::Remote;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    fn stored(generations: &str, fence: &str) -> Value {
        Value::Array(vec![
            Value::Int(1),
            bulk(generations),
            bulk("schema"),
            bulk("v"),
            bulk("payload"),
            Value::Int(5000),
            bulk(fence),
        ])
    }

    fn snapshot(reply: &ReadReply) -> &[u8] {
        match &reply.remote {
            Remote::Hit { generations, .. } => generations.as_bytes(),
            Remote::Miss { generations } => generations,
        }
    }

    #[test]
    fn a_value_is_a_hit_only_under_exactly_the_current_generations() {
        let hit = judge(stored("7,9", ""), "7,9".into(), false).unwrap();
        assert!(
            matches!(hit.remote, Remote::Hit { ref payload, ttl_left, .. }
                if payload.as_deref() == Some(&b"payload"[..])
                    && ttl_left == Some(Duration::from_millis(5000)))
        );
        let moved = judge(stored("7,9", "42"), "7,10".into(), false).unwrap();
        assert!(matches!(moved.remote, Remote::Miss { .. }));
        assert_eq!(
            snapshot(&moved),
            b"7,10|42",
            "the key's fence goes with the snapshot"
        );
        assert!(!moved.foreign);
    }

    #[test]
    fn foreign_data_is_a_counted_miss() {
        let foreign_value = Value::Array(vec![Value::Int(2), bulk("")]);
        let foreign = judge(foreign_value, "1".into(), false).unwrap();
        assert!(matches!(foreign.remote, Remote::Miss { .. }) && foreign.foreign);
        let replaced_tag = judge(stored("1", ""), "1".into(), true).unwrap();
        assert!(matches!(replaced_tag.remote, Remote::Miss { .. }) && replaced_tag.foreign);
        assert!(judge(Value::Int(3), "1".into(), false).is_none());
        assert!(judge(Value::Array(vec![Value::Int(0)]), "1".into(), false).is_none());
    }

    #[test]
    fn the_value_scripts_fence_a_key_put_since_a_fill_read_it() {
        let Some(mut redis) = super::super::test_redis::TestRedis::start() else {
            return;
        };
        let read = |redis: &mut super::super::test_redis::TestRedis, want: &str| -> Vec<Value> {
            Script::new(VALUE_READ)
                .key("c:v:1")
                .arg(want)
                .invoke(&mut redis.connection)
                .unwrap()
        };
        let write = |redis: &mut super::super::test_redis::TestRedis, snapshot: &str| -> i64 {
            Script::new(VALUE_WRITE)
                .key("c:v:1")
                .arg(snapshot)
                .arg("schema")
                .arg("v")
                .arg(format!("from {snapshot}"))
                .arg("60000")
                .invoke(&mut redis.connection)
                .unwrap()
        };
        assert_eq!(read(&mut redis, "0"), vec![Value::Int(0), bulk("")]);
        assert_eq!(write(&mut redis, "5|"), 1);
        assert_eq!(write(&mut redis, "5|!9"), 1, "a put");
        assert_eq!(
            write(&mut redis, "5|"),
            0,
            "a fill that read before the put"
        );
        assert_eq!(read(&mut redis, "0"), vec![Value::Int(0), bulk("9")]);
        let hit = read(&mut redis, "1");
        assert_eq!(hit[0], Value::Int(1));
        assert_eq!(
            hit[1],
            bulk("5"),
            "the generations stored without the fence"
        );
        assert_eq!(hit[4], bulk("from 5|!9"));
        assert_eq!(hit[6], bulk("9"));
        let reply = judge(Value::Array(hit), "5".into(), false).unwrap();
        assert!(matches!(reply.remote, Remote::Hit { .. }));
        assert_eq!(snapshot(&reply), b"5|9");
        assert_eq!(write(&mut redis, "5|9"), 1, "a fill that read after it");
    }

    #[test]
    fn a_read_of_generations_only_is_a_miss_carrying_them_and_the_fence() {
        let fence_only = Value::Array(vec![Value::Int(0), bulk("77")]);
        let reply = judge(fence_only, "4,5".into(), false).unwrap();
        assert!(matches!(reply.remote, Remote::Miss { .. }));
        assert_eq!(snapshot(&reply), b"4,5|77");
    }
}
