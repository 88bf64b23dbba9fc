//! A hit without a script: the value read by a plain `GET` (its header says when it expires),
//! compared with the tags' generations from the mirror (`mirror.rs`), or read with them when the
//! mirror does not know them (one server: `MGET` in the same pipeline; a cluster: a `GET` per
//! tag, side by side).
//!
//! The read script costs Redis about 11 µs a call (the Lua calls, creating missing counters,
//! extending their TTLs), against 0.2–0.4 µs for a plain `GET`: on the hit path, where neither is
//! needed, it made a Redis hit a fifth of a raw `GET`'s throughput (`benches/shared_hit.rs`). A
//! value is one string (header and payload, see `scripts.rs`) because a `GET` is the cheapest read
//! Redis has: an `HMGET` of a hash's fields measured 0.72 of a `GET`'s throughput on its own, 0.69
//! with a `PTTL` (and a `GET` with a `PTTL`, 0.87–0.9: so the header carries the expiry instead). A
//! hit needs neither: its tags exist (the value was written under them) and outlive it (their TTL
//! was extended when its generations were read). Anything else (a counter missing, a value missing,
//! stale or not ours) is not answered here: the read script runs, as before, and decides, creates
//! and extends. So a miss costs a second round trip; a hit costs one, and plain commands.
//!
//! Not atomic, and it need not be (as on a cluster, `cluster.rs`): the caller snapshotted its
//! in-memory stamps before reading, so an invalidation acknowledged after that makes the copy
//! stale on arrival, and one applied before is seen by the counters read after it.

use super::connection::Connection;
use super::mirror::Since;
use super::node_routes::Direct;
use super::operation::Requests;
use super::protocol::{ReadReply, StoredValue};
use super::{SharedTier, ValueKeyName};
use crate::tier::TierError;
use crate::tier::{Generations, Remote};
use futures_util::future::try_join_all;
use redis::Value;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

impl SharedTier {
    /// The value of `key` if it is a hit under the tags' current generations; `None` when the
    /// read script must decide. When the mirror knows every tag, the value alone.
    pub(super) async fn plain_hit(
        &self,
        budget: Duration,
        key: u128,
        tags: &[&str],
    ) -> Result<Option<ReadReply>, TierError> {
        let (known, since) = self.mirrored(tags);
        let (fields, generations) = if known.is_some() || tags.is_empty() {
            (self.value_field(budget, key).await?, Vec::new())
        } else {
            // Boxed: reading the generations as well (a tag not known yet) is a larger future,
            // which would size every hit's read past what malloc serves from its per-thread
            // cache (1,216 bytes, against 1,024).
            Box::pin(self.fields_with_generations(budget, key, tags)).await?
        };
        Ok(self.judged(fields, known, since, tags, &generations))
    }

    /// The value alone: one `GET`, on either topology.
    async fn value_field(&self, budget: Duration, key: u128) -> Result<Value, TierError> {
        // The command is built where it is sent: the closure (cloned for the retry `read_within`
        // keeps ready) holds only the prefix's `Arc` and the key.
        let prefix = Arc::clone(&self.prefix);
        self.read_within(budget, Requests::AtOnce, move |mut connection| async move {
            routed_get(&value_get(&prefix, key), &mut connection).await
        })
        .await
    }

    /// The value and its tags' generations: one server's pipeline of the `GET` and an `MGET`,
    /// or a cluster's `GET`s side by side.
    async fn fields_with_generations(
        &self,
        budget: Duration,
        key: u128,
        tags: &[&str],
    ) -> Result<(Value, Vec<Value>), TierError> {
        if self.is_cluster() {
            self.cluster_fields(budget, key, tags).await
        } else {
            self.server_fields(budget, key, tags).await
        }
    }

    /// One server: the value's `GET` and the tags' `MGET`, in one pipeline.
    async fn server_fields(
        &self,
        budget: Duration,
        key: u128,
        tags: &[&str],
    ) -> Result<(Value, Vec<Value>), TierError> {
        let get = value_get(&self.prefix, key);
        let mut pipe = redis::pipe();
        // Error replies are replies: a key of another type is judged by the script.
        pipe.ignore_errors().add_command(get);
        let mget = pipe.cmd("MGET");
        for tag in tags {
            mget.arg(self.tag_key(tag));
        }
        let pipe = Arc::new(pipe);
        let fields: Vec<Value> = self
            .read_within(budget, Requests::AtOnce, move |mut connection| async move {
                pipe.query_async(&mut connection).await
            })
            .await?;
        let mut fields = fields.into_iter();
        let value = fields.next().unwrap_or(Value::Nil);
        let generations = match fields.next() {
            Some(Value::Array(generations)) => generations,
            _ => Vec::new(),
        };
        Ok((value, generations))
    }

    /// A cluster: the value's `GET` and each tag's, sent side by side.
    async fn cluster_fields(
        &self,
        budget: Duration,
        key: u128,
        tags: &[&str],
    ) -> Result<(Value, Vec<Value>), TierError> {
        let prefix = Arc::clone(&self.prefix);
        let tag_keys: Vec<String> = tags.iter().map(|tag| self.tag_key(tag)).collect();
        self.read_within(budget, Requests::AtOnce, move |connection| async move {
            let mut for_value = connection.clone();
            let value = async move { routed_get(&value_get(&prefix, key), &mut for_value).await };
            let generations = try_join_all(tag_keys.into_iter().map(|tag_key| {
                let mut connection = connection.clone();
                async move {
                    let mut get = redis::cmd("GET");
                    get.arg(tag_key);
                    // Not a counter of ours: the script replaces it.
                    routed_get(&get, &mut connection).await
                }
            }));
            futures_util::future::try_join(value, generations).await
        })
        .await
    }

    /// The generations the mirror knows for `tags` (joined as a value stores them), while this
    /// instance is subscribed; and where a read that finds them out stands.
    fn mirrored(&self, tags: &[&str]) -> (Option<Generations>, Since) {
        let (known, since) = self.mirror.joined(tags);
        (known.filter(|_| self.subscribed.load(Relaxed)), since)
    }

    /// The generations a read found (joined), learned by the mirror while subscribed; `None` if
    /// one is missing (the script creates it).
    fn learned(&self, since: Since, tags: &[&str], generations: &[Value]) -> Option<Generations> {
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
        Some(generations.join(&b',').into())
    }

    /// [`Found::judge`] of the value against the tags' current generations: the mirror's
    /// (`known`), else the ones the read found (`generations`, learned). A value stored under
    /// other generations than the mirror's may mean the mirror is behind (a message lost
    /// without the subscription dropping): its tags are forgotten, and read from Redis next
    /// time.
    fn judged(
        &self,
        reply: Value,
        known: Option<Generations>,
        since: Since,
        tags: &[&str],
        generations: &[Value],
    ) -> Option<ReadReply> {
        let found = Found::from_reply(reply);
        let current = match known {
            Some(known) => {
                if found.stored_under_other(known.as_bytes()) {
                    self.mirror.forget(tags);
                }
                known
            }
            None => self.learned(since, tags, generations)?,
        };
        found.judge(current, crate::clock::coarse_unix_millis())
    }
}

/// The command that reads the value of `key` under `prefix`, sized up front (`GET`, the
/// prefix, `:v:`, 32 hex digits): its two buffers are allocated once.
fn value_get(prefix: &str, key: u128) -> redis::Cmd {
    let mut get = redis::Cmd::with_capacity(2, 3 + prefix.len() + 3 + 32);
    get.arg("GET").arg(ValueKeyName { prefix, key });
    get
}

/// [`get_or_nothing`], sent straight to the master holding the key when the connection knows
/// the cluster's masters (`node_routes.rs`), else (or when that route turned out wrong) on the
/// connection itself.
async fn routed_get(get: &redis::Cmd, connection: &mut Connection) -> redis::RedisResult<Value> {
    if let Connection::Routed(_, routes) = connection
        && let Direct::Answered(answer) = routes.get(get).await
    {
        return answer;
    }
    get_or_nothing(get, connection).await
}

/// A `GET`'s reply; an error reply (a key of another type) reads as nothing, for the read
/// script to judge.
async fn get_or_nothing(
    get: &redis::Cmd,
    connection: &mut Connection,
) -> redis::RedisResult<Value> {
    match get.query_async::<Value>(connection).await {
        Err(e) if e.code() == Some("WRONGTYPE") => Ok(Value::Nil),
        answer => answer,
    }
}

/// What the plain read found under the value's key: a value of ours, if it is one.
struct Found {
    value: Option<StoredValue>,
}

impl Found {
    /// From the value's `GET`.
    fn from_reply(reply: Value) -> Found {
        let value = match reply {
            Value::BulkString(bytes) => StoredValue::parse(bytes),
            _ => None,
        };
        Found { value }
    }

    /// Whether it holds a value stored under other generations than `current`.
    fn stored_under_other(&self, current: &[u8]) -> bool {
        self.value
            .as_ref()
            .is_some_and(|value| value.generations() != current)
    }

    /// A hit if it holds a value stored under `current`, the tags' current generations
    /// (joined), and not past its expiry at `now_ms` (milliseconds since the Unix epoch);
    /// `None` otherwise (the read script decides).
    fn judge(self, current: Generations, now_ms: u64) -> Option<ReadReply> {
        let value = (self.value).filter(|value| value.generations() == current.as_bytes())?;
        let ttl_left = value.ttl_left(now_ms)?;
        let is_value = match value.kind() {
            b"v" => true,
            b"n" => false,
            _ => return None,
        };
        let schema = crate::remote_hit::schema_of(value.schema());
        Some(ReadReply {
            remote: Remote::Hit {
                generations: current,
                schema,
                payload: is_value.then(|| value.into_payload()),
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
        Found::from_reply(Value::BulkString(value))
    }

    #[test]
    fn a_value_under_exactly_the_current_generations_is_a_hit_until_it_expires() {
        let hit = found("3,4").judge(b"3,4"[..].into(), NOW).unwrap();
        assert!(
            matches!(hit.remote, Remote::Hit { ref payload, ttl_left, .. }
                if payload.as_deref() == Some(&b"bytes"[..])
                    && ttl_left == Some(Duration::from_millis(9000)))
        );
        assert!(found("3,4").judge(b"3,4"[..].into(), NOW + 8999).is_some());
        assert!(found("3,4").judge(b"3,4"[..].into(), NOW + 9000).is_none());
    }

    #[test]
    fn a_value_key_written_in_place_is_its_name() {
        let name = ValueKeyName {
            prefix: "ns",
            key: 0x0123_4567_89ab_cdef_0011_2233_4455_6677,
        };
        let mut in_place = redis::cmd("GET");
        in_place.arg(&name);
        let mut named = redis::cmd("GET");
        named.arg("ns:v:0123456789abcdef0011223344556677");
        assert_eq!(in_place.get_packed_command(), named.get_packed_command());
        assert_eq!(name.to_string(), "ns:v:0123456789abcdef0011223344556677");
    }

    #[test]
    fn anything_else_is_left_to_the_script() {
        assert!(found("3,4").judge(b"3,5"[..].into(), NOW).is_none());
        assert!(found("3,4").judge(b"3"[..].into(), NOW).is_none());
        let missing = Found::from_reply(Value::Nil);
        assert!(
            !missing.stored_under_other(b"3"),
            "a missing value is no mismatch"
        );
        assert!(missing.judge(b"3"[..].into(), NOW).is_none());
        let wrong_type = Found::from_reply(Value::Int(0));
        assert!(wrong_type.judge(b"3"[..].into(), NOW).is_none());
        let foreign = Found::from_reply(Value::BulkString(b"3".to_vec()));
        assert!(!foreign.stored_under_other(b"3"));
        assert!(foreign.judge(b"3"[..].into(), NOW).is_none());
        assert!(found("3,4").stored_under_other(b"3,5"));
        assert!(!found("3,4").stored_under_other(b"3,4"));
    }
}
