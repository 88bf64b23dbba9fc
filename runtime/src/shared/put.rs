//! `#[cache_put]`'s write: one value, written now (not queued behind other misses' writes),
//! under the generations read before the write function ran (refused if one of them moved),
//! and fencing the key: a fill computed from data read before the put is refused when its
//! write-behind lands later (see `scripts.rs`).

use super::protocol::put_snapshot;
use super::{SharedTier, random_u62};
use crate::tier::{TierError, Write};
use std::time::Instant;

impl SharedTier {
    /// Writes `write` with the write script, after any pending invalidation, within one
    /// operation budget: whether it was written.
    pub(crate) async fn write_now(&self, mut write: Write) -> Result<bool, TierError> {
        let started = Instant::now();
        // A fresh fence: fills of this key that read before now are refused from here on.
        write.generations = put_snapshot(&write.generations, random_u62());
        let budget = self.config.operation_timeout;
        self.replayed_within(budget).await?;
        let left = budget.saturating_sub(started.elapsed());
        let written = if self.is_cluster() {
            // The generations are unchecked on a cluster (a script touches one slot): a read
            // refuses the value if one of them moved, which keeps a racing invalidation's
            // promise. The fence is checked: it is in the value's own slot.
            self.cluster_write_batch(left, vec![write]).await?
        } else {
            let (keys, args) = self.write_arguments(vec![write]);
            self.eval_within(left, &self.write_script, keys, args)
                .await?
        };
        self.count_written(1, written);
        Ok(written == 1)
    }
}
