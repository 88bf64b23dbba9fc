//! Writes off the request path: a bounded queue, drained by a writer task on the tier's runtime.
//! A full queue drops the write (and counts it); a write is never the caller's wait.

use super::SharedTier;
use super::protocol::millis;
use crate::tier::{TierError, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::sync::mpsc;

impl SharedTier {
    /// Queues `write`; drops it (and counts) when the queue is full.
    pub(crate) fn write(&self, write: Write) {
        if self.writes.try_send(write).is_err() {
            self.counters.writes_dropped.fetch_add(1, Relaxed);
        }
    }

    pub(super) async fn write_behind(self: Arc<Self>, mut queue: mpsc::Receiver<Write>) {
        while let Some(write) = queue.recv().await {
            // Nothing goes to Redis while an invalidation waits to be replayed: this value
            // may have been computed before it.
            if !self.pending.is_empty()
                && self
                    .wait_replayed(self.config.operation_timeout)
                    .await
                    .is_err()
            {
                self.counters.writes_dropped.fetch_add(1, Relaxed);
                continue;
            }
            let mut keys = vec![self.value_key(write.key)];
            keys.extend(write.tags.iter().map(|tag| self.tag_key(tag)));
            let args = vec![
                write.generations,
                write.schema,
                if write.payload.is_some() {
                    b"v".to_vec()
                } else {
                    b"n".to_vec()
                },
                write.payload.unwrap_or_default(),
                millis(write.ttl.max(Duration::from_millis(1))),
            ];
            let written: Result<i64, TierError> = self.eval(&self.write_script, keys, args).await;
            if written.is_ok_and(|n| n == 1) {
                self.counters.writes.fetch_add(1, Relaxed);
            }
        }
    }
}
