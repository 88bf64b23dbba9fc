//! Shared counters (`increment`/`decrement` with a shared tier): a plain Redis integer under
//! the key's value key `{ns}:v:{key}` (so `forget_key` and `pull` remove it, and a `put`
//! replaces it), changed by `INCRBY` in one script that also sets its TTL once, when the
//! counter is created. Counters carry no tags and no generations: an invalidation does not
//! reset them (their TTL, `forget_key` and `pull` do).

use super::SharedTier;
use super::protocol::millis;
use super::scripts::INCREMENT;
use crate::tier::TierError;
use redis::Script;
use std::sync::LazyLock;
use std::time::Duration;

static INCREMENT_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(INCREMENT));

impl SharedTier {
    /// Adds `by` to the counter of `key` and returns its new count, within one operation
    /// budget; the counter is created at 0 with `ttl` (none: it never expires).
    pub(crate) async fn increment(
        &self,
        key: u128,
        by: i64,
        ttl: Option<Duration>,
    ) -> Result<i64, TierError> {
        let keys = vec![self.value_key(key)];
        let ttl_ms = ttl.map_or_else(
            || b"0".to_vec(),
            |ttl| millis(ttl.max(Duration::from_millis(1))),
        );
        let args = vec![by.to_string().into_bytes(), ttl_ms];
        self.eval(&INCREMENT_SCRIPT, keys, args).await
    }
}
