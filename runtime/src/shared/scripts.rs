//! The Lua scripts: each operation is one round trip, and each treats data it did not write
//! (a key of another Redis type, a string without our header, a tag counter that is not a
//! number) as foreign: refused or replaced, never an error reply.
//!
//! Keys: `{ns}:v:{key}` holds a value, one string so that a hit is one `GET`: a header line
//! `cq1|generations|fence|schema|kind|expiry` (the put fence empty until a put writes one; the
//! expiry in milliseconds since the Unix epoch on Redis's clock, when Redis expires the key; no
//! field holds a `|` or a newline), a newline, then the payload. `{ns}:t:{tag}` holds a tag's
//! generation, a decimal counter created at a random start.
//!
//! **Snapshots.** A read answers with a snapshot, `generations|fence`: the tags' generations
//! joined by commas, then the key's put fence (empty when it has none). A value computed after
//! that read is written only if both still hold: no invalidation of its tags, and no `put` of
//! its key in between. A put's own write sends `generations|!token`: it is checked against the
//! generations only (the last put wins) and sets the fence to `token`, so that every fill that
//! read before it is refused. The fence goes with the value: a value that expires or is removed
//! takes it along, which is as old as anything a late fill could still bring.

/// The Lua helpers both topologies' scripts share: a value's header read and written (see the
/// module's docs; anything else under a value's key is foreign), a key's put fence (`''`
/// unless it holds a value of ours with one), and a snapshot split into its generations and
/// fence (no `|`: the generations alone, no fence to check).
macro_rules! fence_lua {
    () => {
        r"
-- The fields of a value's header line, or nil if it is not one of ours.
local function header_fields(line)
  local g, w, s, k = string.match(line, '^cq1|([^|]*)|([^|]*)|([^|]*)|([^|]*)|%d+$')
  if not g then return nil end
  return {g = g, w = w, s = s, k = k}
end
-- The value under `key` (of Redis type `kind`) with its payload, or nil if it is not ours.
local function value_of(key, kind)
  if kind ~= 'string' then return nil end
  local v = redis.call('GET', key)
  local nl = string.find(v, '\n', 1, true)
  if not nl then return nil end
  local fields = header_fields(string.sub(v, 1, nl - 1))
  if fields then fields.p = string.sub(v, nl + 1) end
  return fields
end
local function fence_of(key, kind)
  if kind ~= 'string' then return '' end
  -- The header alone: a write does not copy the payload it replaces.
  local head = redis.call('GETRANGE', key, 0, 1023)
  local nl = string.find(head, '\n', 1, true)
  if not nl then
    head = redis.call('GET', key)
    nl = string.find(head, '\n', 1, true)
    if not nl then return '' end
  end
  local fields = header_fields(string.sub(head, 1, nl - 1))
  return fields and fields.w or ''
end
local function split_snapshot(snapshot)
  local bar = string.find(snapshot, '|', 1, true)
  if not bar then return snapshot, nil end
  return string.sub(snapshot, 1, bar - 1), string.sub(snapshot, bar + 1)
end
-- Whether a write carrying `fence` may replace what is under `key`, and the fence it leaves.
local function fence_check(key, fence)
  if fence == nil then return true, '' end
  if string.sub(fence, 1, 1) == '!' then return true, string.sub(fence, 2) end
  return fence_of(key, redis.call('TYPE', key)['ok']) == fence, fence
end
local function store(key, gens, fence, schema, kind, payload, ttl)
  local now = redis.call('TIME')
  local expiry = string.format('%d', now[1] * 1000 + math.floor(now[2] / 1000) + tonumber(ttl))
  local header = 'cq1|' .. gens .. '|' .. fence .. '|' .. schema .. '|' .. kind .. '|' .. expiry
  redis.call('SET', key, header .. '\n' .. payload, 'PX', ttl)
end
"
    };
}
pub(super) use fence_lua;

/// The generations of the tags (created at their random start if missing) and, if asked, the
/// value if it was computed under exactly those generations: one key's read, as a Lua function
/// the read scripts call ([`READ`] for one key, [`READ_MANY`] for several).
///
/// `read_one(k, tags, want, ttl, a)`: the value is `KEYS[k]`, its tags the `tags` keys after it;
/// `want` is `'1'` to want the value, `ttl` the tags' TTL (ms); the tags' random starts are
/// `ARGV[a]` onwards. Reply: `{status, snapshot, schema, kind, payload, ttl_left}`, status 1
/// a hit, 0 a miss, 2 a miss where foreign data was found (and replaced, for a tag); the
/// snapshot is `generations|fence` (see the module's docs).
const READ_ONE: &str = concat!(
    fence_lua!(),
    r"
local function read_one(k, tags, want, ttl, a)
  local gens = {}
  local foreign = false
  for i = 1, tags do
    local key = KEYS[k + i]
    local g = redis.pcall('GET', key)
    if type(g) == 'table' then
      -- Not a string (an error reply): not a counter of ours. Replace it.
      redis.call('DEL', key)
      g = false
      foreign = true
    end
    if not g then
      g = ARGV[a + i - 1]
      redis.call('SET', key, g, 'PX', ttl)
    else
      local left = redis.call('PTTL', key)
      if left >= 0 and left < ttl then redis.call('PEXPIRE', key, ttl) end
    end
    gens[#gens + 1] = g
  end
  local joined = table.concat(gens, ',')
  local kind = redis.call('TYPE', KEYS[k])['ok']
  if want ~= '1' then
    return {foreign and 2 or 0, joined .. '|' .. fence_of(KEYS[k], kind)}
  end
  local v = value_of(KEYS[k], kind)
  local snapshot = joined .. '|' .. (v and v.w or '')
  if v then
    if v.g == joined then
      return {1, snapshot, v.s, v.k, v.p, redis.call('PTTL', KEYS[k])}
    end
  elseif kind ~= 'none' then
    foreign = true
  end
  if foreign then return {2, snapshot} end
  return {0, snapshot}
end
"
);

/// One key's read (see [`READ_ONE`]).
///
/// `KEYS`: the value, then the tags. `ARGV`: `1` to want the value, the tags' TTL (ms), then
/// each tag's random start. Reply: `read_one`'s.
pub(super) fn read() -> String {
    format!("{READ_ONE}return read_one(1, #KEYS - 1, ARGV[1], tonumber(ARGV[2]), 3)")
}

/// Several keys' reads in one round trip (a batch function's missing items).
///
/// `ARGV[1]`: how many keys. Then per key, in order: `KEYS` its value then its tags; `ARGV` its
/// number of tags, `1` to want the value, the tags' TTL (ms), then each tag's random start.
/// Reply: one `read_one` reply per key, in order.
pub(super) fn read_many() -> String {
    format!(
        "{READ_ONE}{}",
        r"
local k, a, replies = 1, 2, {}
for n = 1, tonumber(ARGV[1]) do
  local tags = tonumber(ARGV[a])
  replies[n] = read_one(k, tags, ARGV[a + 1], tonumber(ARGV[a + 2]), a + 3)
  k = k + 1 + tags
  a = a + 3 + tags
end
return replies
"
    )
}

/// Writes a batch of values, each only if its tags still have the generations it was computed
/// under and no put fenced its key since it was read (its snapshot); whatever was under a
/// value's key (ours or not) is replaced. One round trip for the
/// whole batch: what lets the write-behind queue keep up with thousands of misses per second.
///
/// Per value, in order: `KEYS` the value's key, then its tags' keys; `ARGV` (after `ARGV[1]`,
/// the number of values) the number of tags, the generations, schema, kind, payload and TTL
/// (ms), where "the generations" is the snapshot the value was computed under. Reply: how many
/// were written (the others were refused: a generation moved, a tag counter is missing or
/// foreign, or a put fenced the key).
pub(super) const WRITE: &str = concat!(
    fence_lua!(),
    r"
local k, a, written = 1, 2, 0
for _ = 1, tonumber(ARGV[1]) do
  local tags = tonumber(ARGV[a])
  local wanted, fence = split_snapshot(ARGV[a + 1])
  local gens, current = {}, true
  for i = 1, tags do
    local g = redis.pcall('GET', KEYS[k + i])
    if type(g) ~= 'string' then
      current = false
      break
    end
    gens[#gens + 1] = g
  end
  local unfenced, leaves = fence_check(KEYS[k], fence)
  if current and unfenced and table.concat(gens, ',') == wanted then
    store(KEYS[k], wanted, leaves, ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5])
    written = written + 1
  end
  k = k + 1 + tags
  a = a + 6
end
return written
"
);

/// Bumps each tag, then publishes the message. A missing counter is left missing: the next read
/// creates it at a fresh random start, which no stored value carries (an `INCR` would restart
/// it at 1, a generation that may already have been used). A counter that is not a number is
/// deleted, for the same reason.
///
/// `KEYS`: the tags. `ARGV`: the channel, the message. Reply: how many subscribers received it.
pub(super) const INVALIDATE: &str = r"
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    local bumped = redis.pcall('INCR', KEYS[i])
    if type(bumped) == 'table' then redis.call('DEL', KEYS[i]) end
  end
end
return redis.call('PUBLISH', ARGV[1], ARGV[2])
";

/// Adds to a counter (`increment`/`decrement`): `INCRBY`, and the TTL set only when the
/// counter has none (it was just created), so later increments never extend it. Data that is
/// not an integer counter (another Redis type, a string that is not an integer) is replaced by
/// a new counter; an increment that would overflow is an error reply, and changes nothing.
///
/// `KEYS[1]`: the counter. `ARGV`: what to add, the TTL (ms; `0`: none). Reply: the new count.
pub(super) const INCREMENT: &str = r"
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind ~= 'none' and kind ~= 'string' then redis.call('DEL', KEYS[1]) end
local n = redis.pcall('INCRBY', KEYS[1], ARGV[1])
if type(n) == 'table' then
  if string.find(n['err'] or '', 'overflow') then return n end
  redis.call('DEL', KEYS[1])
  n = redis.call('INCRBY', KEYS[1], ARGV[1])
end
if ARGV[2] ~= '0' and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return n
";

#[cfg(test)]
mod tests {
    use super::super::test_redis::TestRedis;
    use super::*;
    use redis::{Script, Value};

    const VALUE: &str = "t:v:1";
    const TAG: &str = "t:t:a";

    fn read(redis: &mut TestRedis) -> Vec<Value> {
        Script::new(&super::read())
            .key(VALUE)
            .key(TAG)
            .arg("1")
            .arg("60000")
            .arg("100")
            .invoke(&mut redis.connection)
            .unwrap()
    }

    fn write(redis: &mut TestRedis, snapshot: &str, payload: &str) -> u64 {
        Script::new(WRITE)
            .key(VALUE)
            .key(TAG)
            .arg("1")
            .arg("1")
            .arg(snapshot)
            .arg("schema")
            .arg("v")
            .arg(payload)
            .arg("60000")
            .invoke(&mut redis.connection)
            .unwrap()
    }

    fn text(value: &Value) -> String {
        match value {
            Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            Value::Int(n) => n.to_string(),
            other => format!("{other:?}"),
        }
    }

    /// Status, snapshot and (for a hit) payload of a read.
    fn summary(reply: &[Value]) -> (String, String, Option<String>) {
        (text(&reply[0]), text(&reply[1]), reply.get(4).map(text))
    }

    #[test]
    fn a_put_fences_its_key_against_fills_that_read_before_it() {
        let Some(mut redis) = TestRedis::start() else {
            return;
        };
        assert_eq!(
            summary(&read(&mut redis)),
            ("0".into(), "100|".into(), None)
        );
        assert_eq!(write(&mut redis, "100|", "first"), 1);
        let hit = ("1".into(), "100|".into(), Some("first".into()));
        assert_eq!(summary(&read(&mut redis)), hit);

        // A fill read "100|"; a put lands (checked against the generations only) before the
        // fill's write, which is then refused.
        assert_eq!(write(&mut redis, "100|!777", "put"), 1);
        assert_eq!(write(&mut redis, "100|", "older"), 0);
        let fenced = ("1".into(), "100|777".into(), Some("put".into()));
        assert_eq!(summary(&read(&mut redis)), fenced);

        // A fill that read after the put is written, and keeps the fence.
        assert_eq!(write(&mut redis, "100|777", "newer"), 1);
        assert_eq!(write(&mut redis, "100|", "older"), 0);
        let kept = ("1".into(), "100|777".into(), Some("newer".into()));
        assert_eq!(summary(&read(&mut redis)), kept);

        // A moved generation refuses a put as any write.
        let _: i64 = redis::cmd("INCR")
            .arg(TAG)
            .query(&mut redis.connection)
            .unwrap();
        assert_eq!(write(&mut redis, "100|!778", "put"), 0);

        // Foreign data carries no fence: a fill replaces it.
        let _: () = redis::cmd("SET")
            .arg(VALUE)
            .arg("junk")
            .query(&mut redis.connection)
            .unwrap();
        assert_eq!(
            summary(&read(&mut redis)),
            ("2".into(), "101|".into(), None)
        );
        assert_eq!(write(&mut redis, "101|", "replaced"), 1);

        // A snapshot without a fence part (the generations alone) is not checked against one.
        assert_eq!(write(&mut redis, "101|!5", "put"), 1);
        assert_eq!(write(&mut redis, "101", "unfenced"), 1);
    }
}
