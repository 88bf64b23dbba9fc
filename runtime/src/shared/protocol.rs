//! What instances exchange through Redis: the Lua scripts (one round trip per operation), the
//! invalidation and acknowledgement messages, and how a read script's reply is understood.

use crate::codec;
use crate::tier::Remote;
use redis::Value;
use std::time::Duration;

/// `{ns}:t:{tag}` keys for the generations of `tags`, then the random starts.
pub(super) const READ: &str = r"
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

pub(super) const WRITE: &str = r"
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

pub(super) const INVALIDATE: &str = r"
for i = 1, #KEYS do redis.call('INCR', KEYS[i]) end
return redis.call('PUBLISH', ARGV[1], ARGV[2])
";

#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Message {
    pub(super) origin: u64,
    pub(super) id: u64,
    pub(super) tags: Vec<String>,
}

pub(super) fn millis(duration: Duration) -> Vec<u8> {
    u64::try_from(duration.as_millis())
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

pub(super) fn parse_read(value: Value) -> Option<Remote> {
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
