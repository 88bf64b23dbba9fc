//! `#[cache_put]`'s write: one value, written now (not queued behind other misses' writes),
//! under the generations read before the write function ran: refused if one of them moved.

use super::SharedTier;
use crate::tier::{TierError, Write};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

impl SharedTier {
    /// Writes `write` with the write script, after any pending invalidation, within one
    /// operation budget: whether it was written.
    pub(crate) async fn write_now(&self, write: Write) -> Result<bool, TierError> {
        let started = Instant::now();
        let budget = self.config.operation_timeout;
        self.replayed_within(budget).await?;
        if self.is_cluster() {
            // Unchecked on a cluster (a script touches one slot): a read refuses the value
            // if one of its generations moved, which keeps a racing invalidation's promise.
            let written = self.cluster_write_batch(vec![write]).await?;
            self.counters.writes.fetch_add(written, Relaxed);
            return Ok(written == 1);
        }
        let (keys, args) = self.write_arguments(vec![write]);
        let left = budget.saturating_sub(started.elapsed());
        let written: u64 = self
            .eval_within(left, &self.write_script, keys, args)
            .await?;
        self.counters.writes.fetch_add(written, Relaxed);
        Ok(written == 1)
    }
}
