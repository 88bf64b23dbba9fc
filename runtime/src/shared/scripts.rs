//! The Lua scripts: each operation is one round trip, and each treats data it did not write
//! (a key of another Redis type, a hash with other fields, a tag counter that is not a number)
//! as foreign: refused or replaced, never an error reply.
//!
//! Keys: `{ns}:v:{key}` holds a value (a hash: generations `g`, schema `s`, kind `k`, payload
//! `p`); `{ns}:t:{tag}` holds a tag's generation, a decimal counter created at a random start.

/// The generations of the tags (created at their random start if missing) and, if asked, the
/// value if it was computed under exactly those generations: one key's read, as a Lua function
/// the read scripts call ([`READ`] for one key, [`READ_MANY`] for several).
///
/// `read_one(k, tags, want, ttl, a)`: the value is `KEYS[k]`, its tags the `tags` keys after it;
/// `want` is `'1'` to want the value, `ttl` the tags' TTL (ms); the tags' random starts are
/// `ARGV[a]` onwards. Reply: `{status, generations, schema, kind, payload, ttl_left}`, status 1
/// a hit, 0 a miss, 2 a miss where foreign data was found (and replaced, for a tag).
const READ_ONE: &str = r"
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
  if want == '1' then
    local kind = redis.call('TYPE', KEYS[k])['ok']
    if kind == 'hash' then
      local v = redis.call('HMGET', KEYS[k], 'g', 's', 'k', 'p')
      if not (v[1] and v[2] and v[3] and v[4]) then
        foreign = true
      elseif v[1] == joined then
        return {1, joined, v[2], v[3], v[4], redis.call('PTTL', KEYS[k])}
      end
    elseif kind ~= 'none' then
      foreign = true
    end
  end
  if foreign then return {2, joined} end
  return {0, joined}
end
";

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
/// under; whatever was under a value's key (ours or not) is replaced. One round trip for the
/// whole batch: what lets the write-behind queue keep up with thousands of misses per second.
///
/// Per value, in order: `KEYS` the value's key, then its tags' keys; `ARGV` (after `ARGV[1]`,
/// the number of values) the number of tags, the generations, schema, kind, payload and TTL
/// (ms). Reply: how many were written (the others were refused: a generation moved, or a tag
/// counter is missing or foreign).
pub(super) const WRITE: &str = r"
local k, a, written = 1, 2, 0
for _ = 1, tonumber(ARGV[1]) do
  local tags = tonumber(ARGV[a])
  local gens, current = {}, true
  for i = 1, tags do
    local g = redis.pcall('GET', KEYS[k + i])
    if type(g) ~= 'string' then
      current = false
      break
    end
    gens[#gens + 1] = g
  end
  if current and table.concat(gens, ',') == ARGV[a + 1] then
    redis.call('DEL', KEYS[k])
    redis.call('HSET', KEYS[k], 'g', ARGV[a + 1], 's', ARGV[a + 2], 'k', ARGV[a + 3], 'p', ARGV[a + 4])
    redis.call('PEXPIRE', KEYS[k], ARGV[a + 5])
    written = written + 1
  end
  k = k + 1 + tags
  a = a + 6
end
return written
";

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
