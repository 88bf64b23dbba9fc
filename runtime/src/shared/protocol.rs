//! What instances exchange through Redis besides the scripts (`scripts.rs`): the invalidation
//! and acknowledgement messages, and how a read script's reply is understood.

use crate::codec;
use crate::tier::Remote;
use redis::Value;
use std::time::Duration;

#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Message {
    pub(super) origin: u64,
    pub(super) id: u64,
    pub(super) tags: Vec<String>,
}

/// The longest TTL given to Redis: a century. "Forever" (`Duration::MAX`) and other TTLs past
/// what Redis accepts (its expiry time must fit in 64 bits of milliseconds) become this.
const LONGEST_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

pub(super) fn millis(duration: Duration) -> Vec<u8> {
    u64::try_from(duration.min(LONGEST_TTL).as_millis())
        .unwrap_or(u64::MAX)
        .to_string()
        .into_bytes()
}

pub(super) fn encode_message(message: &Message) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Encoding plain integers and strings into a Vec cannot fail.
    let _ = codec::encode_into(message, &mut bytes);
    bytes
}

pub(super) fn decode_message(bytes: &[u8]) -> Option<Message> {
    codec::decode_limited(bytes, 1024 * 1024)
}

/// The snapshot a put writes under: the generations of `snapshot` (a read's answer,
/// `generations|fence`, or the generations alone), checked as any write's, and `!token`: the
/// key's put fence becomes `token`, which refuses every fill that read before the put (see
/// `scripts.rs`).
pub(super) fn put_snapshot(snapshot: &[u8], token: u64) -> Vec<u8> {
    let generations = snapshot.split(|b| *b == b'|').next().unwrap_or_default();
    let mut put = generations.to_vec();
    put.extend_from_slice(format!("|!{token}").as_bytes());
    put
}

/// What the read script answered.
pub(super) struct ReadReply {
    pub(super) remote: Remote,
    /// Data under our keys that we did not write was found (and refused, or replaced).
    pub(super) foreign: bool,
}

/// The read script's reply (see `scripts::READ`); `None` if it is not one.
pub(super) fn parse_read(value: Value) -> Option<ReadReply> {
    let Value::Array(items) = value else {
        return None;
    };
    let bytes = |v: &Value| match v {
        Value::BulkString(b) => Some(b.clone()),
        Value::SimpleString(s) => Some(s.clone().into_bytes()),
        Value::Int(n) => Some(n.to_string().into_bytes()),
        _ => None,
    };
    let status = match items.first() {
        Some(Value::Int(status)) => *status,
        _ => return None,
    };
    let generations = bytes(items.get(1)?)?;
    let miss = |foreign| {
        Some(ReadReply {
            remote: Remote::Miss {
                generations: generations.clone(),
            },
            foreign,
        })
    };
    if status != 1 {
        return miss(status == 2);
    }
    let schema = bytes(items.get(2)?)?;
    let payload = match bytes(items.get(3)?)?.as_slice() {
        b"v" => Some(bytes(items.get(4)?)?),
        b"n" => None,
        _ => return miss(true),
    };
    let ttl_left = match items.get(5) {
        Some(Value::Int(ms)) if *ms > 0 => Some(Duration::from_millis(*ms as u64)),
        _ => None,
    };
    Some(ReadReply {
        remote: Remote::Hit {
            generations,
            schema,
            payload,
            ttl_left,
        },
        foreign: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_put_keeps_the_generations_and_sets_a_new_fence() {
        assert_eq!(put_snapshot(b"3,4|17", 99), b"3,4|!99");
        assert_eq!(put_snapshot(b"3,4|", 99), b"3,4|!99");
        assert_eq!(put_snapshot(b"3,4", 5), b"3,4|!5");
        assert_eq!(put_snapshot(b"", 5), b"|!5");
    }
}
