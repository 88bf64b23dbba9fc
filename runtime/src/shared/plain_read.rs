//! A hit without a script: the value read by a plain `GET` (its header says when it expires), compared with
//! the tags' generations from the mirror (`mirror.rs`), or read with them when the mirror does
//! not know them (one server: `MGET` in the same pipeline; a cluster: a `GET` per tag, side by
//! side).
//!
//! The read script costs Redis about 11 µs a call (the Lua calls, creating missing counters,
//! extending their TTLs), against 0.2–0.4 µs for a plain `GET`: on the hit path, where
//! neither is needed, it made a Redis hit a fifth of a raw `GET`'s throughput
//! (`benches/shared_hit.rs`). A value is one string (header and payload, see `scripts.rs`)
//! because a `GET` is the cheapest read Redis has: an `HMGET` of a hash's fields measured 0.72
//! of a `GET`'s throughput on its own, 0.69 with a `PTTL` (and a `GET` with a `PTTL`, 0.87–0.9: so
//! the header carries the expiry instead). A hit needs neither: its tags exist (the value was written under
//! them) and outlive it (their TTL was extended when its generations were read). Anything else
//! (a counter missing, a value missing, stale or not ours) is not answered here: the read
//! script runs, as before, and decides, creates and extends. So a miss costs a second round
//! trip; a hit costs one, and plain commands.
//!
//! Not atomic, and it need not be (as on a cluster, `cluster.rs`): the caller snapshotted its
//! in-memory stamps before reading, so an invalidation acknowledged after that makes the copy
//! stale on arrival, and one applied before is seen by the counters read after it.

use super::SharedTier;
use super::mirror::Since;
use super::protocol::{ReadReply, StoredValue, unix_millis};
use crate::tier::Remote;
use crate::tier::TierError;
use futures_util::future::try_join_all;
use redis::Value;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

impl SharedTier {
    /// The pipeline that reads a value (`GET`). Errors are replies, not failures: a key of
    /// another type is judged foreign.
    fn value_read(&self, key: u128) -> redis::Pipeline {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        pipe.cmd("GET").arg(self.value_key(key));
        pipe
    }

    /// The value of `key` if it is a hit under the tags' current generations; `None` when the
    /// read script must decide. When the mirror knows every tag, the value alone.
    pub(super) async fn plain_hit(
        &self,
        budget: Duration,
        key: u128,
        tags: &[Box<str>],
    ) -> Result<Option<ReadReply>, TierError> {
        let (known, since) = self.mirrored(tags);
        let read_generations = known.is_none();
        let (fields, generations) = if self.is_cluster() {
            self.cluster_fields(budget, key, tags, read_generations)
                .await?
        } else {
            self.server_fields(budget, key, tags, read_generations)
                .await?
        };
        Ok(self.judged(fields, known, since, tags, &generations))
    }

    /// One server: the value and, if `read_generations`, the tags' `MGET`, in one pipeline.
    async fn server_fields(
        &self,
        budget: Duration,
        key: u128,
        tags: &[Box<str>],
        read_generations: bool,
    ) -> Result<(Vec<Value>, Vec<Value>), TierError> {
        let mut pipe = self.value_read(key);
        if read_generations && !tags.is_empty() {
            let mget = pipe.cmd("MGET");
            for tag in tags {
                mget.arg(self.tag_key(tag));
            }
        }
        let mut fields: Vec<Value> = self
            .read_within(budget, move |mut connection| async move {
                pipe.query_async(&mut connection).await
            })
            .await?;
        let generations = match fields.get_mut(1) {
            Some(Value::Array(generations)) => std::mem::take(generations),
            _ => Vec::new(),
        };
        fields.truncate(1);
        Ok((fields, generations))
    }

    /// A cluster: the value and, if
    /// `read_generations`, each tag's `GET`, sent side by side.
    async fn cluster_fields(
        &self,
        budget: Duration,
        key: u128,
        tags: &[Box<str>],
        read_generations: bool,
    ) -> Result<(Vec<Value>, Vec<Value>), TierError> {
        let value = self.value_read(key);
        let tag_keys: Vec<String> = if read_generations {
            tags.iter().map(|tag| self.tag_key(tag)).collect()
        } else {
            Vec::new()
        };
        self.read_within(budget, move |connection| async move {
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
        .await
    }

    /// The generations the mirror knows for `tags` (joined as a value stores them), while this
    /// instance is subscribed; and where a read that finds them out stands.
    fn mirrored(&self, tags: &[Box<str>]) -> (Option<Vec<u8>>, Since) {
        let (known, since) = self.mirror.joined(tags);
        (known.filter(|_| self.subscribed.load(Relaxed)), since)
    }

    /// The generations a read found (joined), learned by the mirror while subscribed; `None` if
    /// one is missing (the script creates it).
    fn learned(&self, since: Since, tags: &[Box<str>], generations: &[Value]) -> Option<Vec<u8>> {
        let generations = generations
            .iter()
            .map(|generation| match generation {
                Value::BulkString(generation) => Some(generation.as_slice()),
                _ => None, // missing (or not a string): the script recreates it
            })
            .collect::<Option<Vec<&[u8]>>>()?;
        if generations.len() != tags.len() {
            return None;
        }
        if self.subscribed.load(Relaxed) {
            self.mirror.learn(since, tags, &generations);
        }
        Some(generations.join(&b','))
    }

    /// [`judge_plain`] of the value against the tags' current generations: the mirror's
    /// (`known`), else the ones the read found (`generations`, learned). A value stored under
    /// other generations than the mirror's may mean the mirror is behind (a message lost
    /// without the subscription dropping): its tags are forgotten, and read from Redis next
    /// time.
    fn judged(
        &self,
        replies: Vec<Value>,
        known: Option<Vec<u8>>,
        since: Since,
        tags: &[Box<str>],
        generations: &[Value],
    ) -> Option<ReadReply> {
        let found = Found::from_replies(replies);
        let current = match known {
            Some(known) => {
                if found.stored_under_other(&known) {
                    self.mirror.forget(tags);
                }
                known
            }
            None => self.learned(since, tags, generations)?,
        };
        found.judge(&current, unix_millis())
    }
}

/// What the plain read found under the value's key: a value of ours, if it is one.
struct Found {
    value: Option<StoredValue>,
}

impl Found {
    /// From the pipeline's replies, the value's `GET` first.
    fn from_replies(replies: Vec<Value>) -> Found {
        let value = match replies.into_iter().next() {
            Some(Value::BulkString(bytes)) => StoredValue::parse(bytes),
            _ => None,
        };
        Found { value }
    }

    /// Whether it holds a value stored under other generations than `current`.
    fn stored_under_other(&self, current: &[u8]) -> bool {
        self.value
            .as_ref()
            .is_some_and(|value| value.generations != current)
    }

    /// A hit if it holds a value stored under `current`, the tags' current generations
    /// (joined), and not past its expiry at `now_ms` (milliseconds since the Unix epoch);
    /// `None` otherwise (the read script decides).
    fn judge(self, current: &[u8], now_ms: u64) -> Option<ReadReply> {
        let value = self.value.filter(|value| value.generations == current)?;
        let ttl_left = value.ttl_left(now_ms)?;
        let payload = match value.kind.as_slice() {
            b"v" => Some(value.payload),
            b"n" => None,
            _ => return None,
        };
        Some(ReadReply {
            remote: Remote::Hit {
                generations: value.generations,
                schema: value.schema,
                payload,
                ttl_left: Some(ttl_left),
            },
            foreign: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    fn found(stored: &str) -> Found {
        let value = format!("cq1|{stored}||schema|v|{}\nbytes", NOW + 9000).into_bytes();
        Found::from_replies(vec![Value::BulkString(value)])
    }

    #[test]
    fn a_value_under_exactly_the_current_generations_is_a_hit_until_it_expires() {
        let hit = found("3,4").judge(b"3,4", NOW).unwrap();
        assert!(
            matches!(hit.remote, Remote::Hit { ref payload, ttl_left, .. }
                if payload.as_deref() == Some(&b"bytes"[..])
                    && ttl_left == Some(Duration::from_millis(9000)))
        );
        assert!(found("3,4").judge(b"3,4", NOW + 8999).is_some());
        assert!(found("3,4").judge(b"3,4", NOW + 9000).is_none());
    }

    #[test]
    fn anything_else_is_left_to_the_script() {
        assert!(found("3,4").judge(b"3,5", NOW).is_none());
        assert!(found("3,4").judge(b"3", NOW).is_none());
        let missing = Found::from_replies(vec![Value::Nil]);
        assert!(
            !missing.stored_under_other(b"3"),
            "a missing value is no mismatch"
        );
        assert!(missing.judge(b"3", NOW).is_none());
        let wrong_type = Found::from_replies(vec![Value::Int(0)]);
        assert!(wrong_type.judge(b"3", NOW).is_none());
        let foreign = Found::from_replies(vec![Value::BulkString(b"3".to_vec())]);
        assert!(!foreign.stored_under_other(b"3"));
        assert!(foreign.judge(b"3", NOW).is_none());
        assert!(found("3,4").stored_under_other(b"3,5"));
        assert!(!found("3,4").stored_under_other(b"3,4"));
    }
}
