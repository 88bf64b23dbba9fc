//! A hit without a script: the value's fields, its TTL and the tags' generations read by plain
//! commands (one server: three in one pipeline; a cluster: the value's pipeline and a `GET` per
//! tag, side by side), compared here.
//!
//! The read script costs Redis about 11 µs a call (the Lua calls, creating missing counters,
//! extending their TTLs), against 0.2–0.4 µs for a plain `GET`/`HMGET`: on the hit path, where
//! neither is needed, it made a Redis hit a fifth of a raw `GET`'s throughput
//! (`benches/shared_hit.rs`). A hit needs neither: its tags exist (the value was written under
//! them) and outlive it (their TTL was extended when its generations were read). Anything else
//! (a counter missing, a value missing, stale or not ours) is not answered here: the read
//! script runs, as before, and decides, creates and extends. So a miss costs a second round
//! trip; a hit costs one, and plain commands.
//!
//! Not atomic, and it need not be (as on a cluster, `cluster.rs`): the caller snapshotted its
//! in-memory stamps before reading, so an invalidation acknowledged after that makes the copy
//! stale on arrival, and one applied before is seen by the counters read after it.

use super::SharedTier;
use super::protocol::{ReadReply, parse_read};
use crate::tier::TierError;
use futures_util::future::try_join_all;
use redis::Value;
use std::time::Duration;

impl SharedTier {
    /// The pipeline that reads a value's fields and its TTL (one key, so one slot): `HMGET`
    /// of generations, schema, kind and payload, then `PTTL`. Errors are replies, not failures:
    /// a key of another type is judged foreign.
    fn value_fields(&self, key: u128) -> redis::Pipeline {
        let value_key = self.value_key(key);
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        pipe.cmd("HMGET")
            .arg(&value_key)
            .arg("g")
            .arg("s")
            .arg("k")
            .arg("p")
            .cmd("PTTL")
            .arg(value_key);
        pipe
    }

    /// The value of `key` if it is a hit under the tags' current generations; `None` when the
    /// read script must decide.
    pub(super) async fn plain_hit(
        &self,
        budget: Duration,
        key: u128,
        tags: &[Box<str>],
    ) -> Result<Option<ReadReply>, TierError> {
        let mut pipe = self.value_fields(key);
        if !tags.is_empty() {
            let mget = pipe.cmd("MGET");
            for tag in tags {
                mget.arg(self.tag_key(tag));
            }
        }
        let replies: Vec<Value> = self
            .run_within(budget, move |mut connection| async move {
                pipe.query_async(&mut connection).await
            })
            .await?;
        Ok(judge_plain(replies, tags.len()))
    }

    /// [`plain_hit`](Self::plain_hit) on a cluster: the value's fields and TTL (one slot, one
    /// pipeline) and each tag's `GET`, sent side by side.
    pub(super) async fn cluster_plain_hit(
        &self,
        budget: Duration,
        key: u128,
        tags: &[Box<str>],
    ) -> Result<Option<ReadReply>, TierError> {
        let value = self.value_fields(key);
        let tag_keys: Vec<String> = tags.iter().map(|tag| self.tag_key(tag)).collect();
        let (fields, generations) = self
            .run_within(budget, move |connection| async move {
                let mut for_value = connection.clone();
                let value = value.query_async::<Vec<Value>>(&mut for_value);
                let generations = try_join_all(tag_keys.into_iter().map(|tag_key| {
                    let mut connection = connection.clone();
                    async move {
                        match redis::cmd("GET")
                            .arg(tag_key)
                            .query_async::<Value>(&mut connection)
                            .await
                        {
                            // Not a counter of ours: the script replaces it.
                            Err(e) if e.code() == Some("WRONGTYPE") => Ok(Value::Nil),
                            answer => answer,
                        }
                    }
                }));
                futures_util::future::try_join(value, generations).await
            })
            .await?;
        let mut replies = fields;
        if !tags.is_empty() {
            replies.push(Value::Array(generations));
        }
        Ok(judge_plain(replies, tags.len()))
    }
}

/// A hit if every field and every generation is there and they match; `None` otherwise.
fn judge_plain(replies: Vec<Value>, tags: usize) -> Option<ReadReply> {
    let mut replies = replies.into_iter();
    let Some(Value::Array(fields)) = replies.next() else {
        return None;
    };
    let ttl_left = replies.next()?;
    let generations = if tags == 0 {
        Vec::new()
    } else {
        let Some(Value::Array(generations)) = replies.next() else {
            return None;
        };
        generations
    };
    let mut joined = Vec::new();
    for (i, generation) in generations.iter().enumerate() {
        let Value::BulkString(generation) = generation else {
            return None; // missing (or not a string): the script recreates it
        };
        if i > 0 {
            joined.push(b',');
        }
        joined.extend_from_slice(generation);
    }
    let [stored, schema, kind, payload]: [Value; 4] = fields.try_into().ok()?;
    match &stored {
        Value::BulkString(stored) if *stored == joined => {}
        _ => return None,
    }
    if [&schema, &kind, &payload]
        .iter()
        .any(|field| !matches!(field, Value::BulkString(_)))
    {
        return None;
    }
    parse_read(Value::Array(vec![
        Value::Int(1),
        Value::BulkString(joined),
        schema,
        kind,
        payload,
        ttl_left,
    ]))
    .filter(|reply| matches!(reply.remote, crate::tier::Remote::Hit { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tier::Remote;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    fn replies(stored: &str, generations: &[Value]) -> Vec<Value> {
        vec![
            Value::Array(vec![bulk(stored), bulk("schema"), bulk("v"), bulk("bytes")]),
            Value::Int(9000),
            Value::Array(generations.to_vec()),
        ]
    }

    #[test]
    fn a_value_under_exactly_the_current_generations_is_a_hit() {
        let hit = judge_plain(replies("3,4", &[bulk("3"), bulk("4")]), 2).unwrap();
        assert!(
            matches!(hit.remote, Remote::Hit { ref payload, ttl_left, .. }
                if payload.as_deref() == Some(&b"bytes"[..])
                    && ttl_left == Some(Duration::from_millis(9000)))
        );
    }

    #[test]
    fn anything_else_is_left_to_the_script() {
        assert!(judge_plain(replies("3,4", &[bulk("3"), bulk("5")]), 2).is_none());
        assert!(judge_plain(replies("3,4", &[bulk("3"), Value::Nil]), 2).is_none());
        let missing = vec![
            Value::Array(vec![Value::Nil, Value::Nil, Value::Nil, Value::Nil]),
            Value::Int(-2),
            Value::Array(vec![bulk("3")]),
        ];
        assert!(judge_plain(missing, 1).is_none());
        let foreign = vec![Value::Int(0), Value::Int(-1), Value::Array(vec![bulk("3")])];
        assert!(judge_plain(foreign, 1).is_none());
    }
}
