//! What instances exchange through Redis besides the scripts (`scripts.rs`): the invalidation
//! and acknowledgement messages, and how a read script's reply is understood.

use crate::codec;
use crate::tier::Remote;
use redis::Value;
use std::ops::Range;
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
    let ttl_left = items.get(5).and_then(ttl_left);
    Some(ReadReply {
        remote: Remote::Hit {
            generations: generations.into(),
            schema: crate::remote_hit::schema_of(&schema),
            payload,
            ttl_left,
        },
        foreign: false,
    })
}

/// A `PTTL` reply as the TTL left: `None` for a key without one, or gone.
fn ttl_left(reply: &Value) -> Option<Duration> {
    match reply {
        Value::Int(ms) if *ms > 0 => Some(Duration::from_millis(*ms as u64)),
        _ => None,
    }
}

/// A value as the scripts store it (see `scripts.rs`): a `GET`'s reply, its header's fields
/// found in place (a Redis hit copies out only its schema).
pub(super) struct StoredValue {
    bytes: Vec<u8>,
    generations: Range<usize>,
    schema: Range<usize>,
    kind: Range<usize>,
    /// When Redis expires it, in milliseconds since the Unix epoch on Redis's clock.
    expires_at_ms: u64,
    /// Where the payload starts, after the header's newline.
    payload: usize,
}

impl StoredValue {
    /// The value in `bytes` (a `GET`'s reply); `None` if they are not a value of ours.
    pub(super) fn parse(bytes: Vec<u8>) -> Option<StoredValue> {
        // memchr's vector search for the newline (the payload after it may be long) and for the
        // header's four bars (its generations alone are up to 60 digits: a byte loop over the
        // header measured 840 instructions a Redis hit; eight bytes at a time, 640, as this).
        let end = memchr::memchr(b'\n', &bytes)?;
        let header = bytes.get(..end)?.strip_prefix(b"cq1|")?;
        let offset = end - header.len();
        let mut bars = memchr::memchr_iter(b'|', header).map(|at| at + offset);
        let (first, second, third, fourth) =
            (bars.next()?, bars.next()?, bars.next()?, bars.next()?);
        if bars.next().is_some() {
            return None;
        }
        let expires_at_ms = decimal(bytes.get(fourth + 1..end)?)?;
        let (generations, schema, kind) = (offset..first, second + 1..third, third + 1..fourth);
        Some(StoredValue {
            generations,
            schema,
            kind,
            expires_at_ms,
            payload: end + 1,
            bytes,
        })
    }

    /// The generations it was stored under, joined by commas.
    pub(super) fn generations(&self) -> &[u8] {
        self.bytes.get(self.generations.clone()).unwrap_or_default()
    }

    pub(super) fn schema(&self) -> &[u8] {
        self.bytes.get(self.schema.clone()).unwrap_or_default()
    }

    /// `v`: a value; `n`: a cached `None` (its payload empty).
    pub(super) fn kind(&self) -> &[u8] {
        self.bytes.get(self.kind.clone()).unwrap_or_default()
    }

    /// The payload, moved to the front of the reply's own buffer: no copy is allocated.
    pub(super) fn into_payload(mut self) -> Vec<u8> {
        self.bytes.drain(..self.payload.min(self.bytes.len()));
        self.bytes
    }

    /// How long it has left at `now_ms` (milliseconds since the Unix epoch); `None` once it
    /// expired. Redis's clock against this machine's: apart by what synchronised clocks differ,
    /// and a copy kept in memory lives no longer than `l1_ttl_cap` anyway.
    pub(super) fn ttl_left(&self, now_ms: u64) -> Option<Duration> {
        let left = self
            .expires_at_ms
            .checked_sub(now_ms)
            .filter(|ms| *ms > 0)?;
        Some(Duration::from_millis(left))
    }
}

/// An unsigned decimal number (a value's expiry); `None` if it is empty, not all digits, or
/// past `u64`.
fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |number, digit| {
        let digit = digit.checked_sub(b'0').filter(|d| *d <= 9)?;
        number.checked_mul(10)?.checked_add(u64::from(digit))
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

    #[test]
    fn a_stored_value_is_its_header_then_its_payload() {
        let value = StoredValue::parse(b"cq1|3,4|77|00ff|v|1000\npay|load\n".to_vec()).unwrap();
        assert_eq!(value.generations(), b"3,4");
        assert_eq!(value.schema(), b"00ff");
        assert_eq!(value.kind(), b"v");
        assert_eq!(value.ttl_left(400), Some(Duration::from_millis(600)));
        assert_eq!(value.ttl_left(1000), None);
        assert_eq!(value.ttl_left(5000), None);
        assert_eq!(value.into_payload(), b"pay|load\n");
        let empty = StoredValue::parse(b"cq1|||s|n|5\n".to_vec()).unwrap();
        assert_eq!((empty.generations(), empty.kind()), (&b""[..], &b"n"[..]));
        assert_eq!(empty.into_payload(), b"");
        let latest = StoredValue::parse(b"cq1|1|2|s|v|18446744073709551615\n".to_vec()).unwrap();
        assert_eq!(latest.expires_at_ms, u64::MAX);
    }

    #[test]
    fn anything_else_is_not_a_stored_value() {
        for foreign in [
            &b""[..],
            b"junk",
            b"cq1|3|77|s|v|5",
            b"cq2|3|77|s|v|5\np",
            b"cq1|3|77|s|v\np",
            b"cq1|3|77|s|v|soon\np",
            b"cq1|3|77|s|v|5|x\np",
            b"cq1|3|77|s|v|\np",
            b"cq1|3|77|s|v|+5\np",
            b"cq1|3|77|s|v|-5\np",
            b"cq1|3|77|s|v|18446744073709551616\np",
            b"12345",
        ] {
            assert!(
                StoredValue::parse(foreign.to_vec()).is_none(),
                "{foreign:?}"
            );
        }
    }
}
