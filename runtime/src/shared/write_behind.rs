//! Writes off the request path: a bounded queue, drained by a writer task on the tier's runtime.
//! A full queue drops the write (and counts it); a write is never the caller's wait.
//!
//! The writer takes whatever has queued up (up to [`BATCH`] values, [`BATCH_BYTES`] of payload)
//! and writes it with one script call: one round trip per batch, not per value, so the queue
//! drains as fast as misses fill it (`benches/shared_writes.rs`).

use super::SharedTier;
use super::protocol::millis;
use crate::tier::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::sync::mpsc;

/// Values per script call.
const BATCH: usize = 256;
/// Payload bytes per script call (a larger value goes alone).
const BATCH_BYTES: usize = 1024 * 1024;

impl SharedTier {
    /// Queues `write`; drops it (and counts) when the queue is full.
    pub(crate) fn write(&self, write: Write) {
        if self.writes.try_send(write).is_err() {
            self.counters.writes_dropped.fetch_add(1, Relaxed);
        }
    }

    pub(super) async fn write_behind(self: Arc<Self>, mut queue: mpsc::Receiver<Write>) {
        let mut queued = Vec::with_capacity(BATCH);
        while queue.recv_many(&mut queued, BATCH).await > 0 {
            // Nothing goes to Redis while an invalidation waits to be replayed: these values
            // may have been computed before it.
            if !self.pending.is_empty()
                && self
                    .wait_replayed(self.config.operation_timeout)
                    .await
                    .is_err()
            {
                let dropped = queued.len() as u64;
                self.counters.writes_dropped.fetch_add(dropped, Relaxed);
                queued.clear();
                continue;
            }
            while !queued.is_empty() {
                let batch = take_batch(&mut queued);
                self.write_batch(batch).await;
            }
        }
    }

    /// Writes `batch` with one script call.
    async fn write_batch(&self, mut batch: Vec<Write>) {
        // Released once the batch is written (or failed): the waiting instances then read it.
        let leases: Vec<_> = batch.iter_mut().filter_map(|w| w.lease.take()).collect();
        self.write_values(batch).await;
        drop(leases);
    }

    async fn write_values(&self, batch: Vec<Write>) {
        let sent = batch.len() as u64;
        let written = if self.is_cluster() {
            let budget = self.config.operation_timeout;
            self.cluster_write_batch(budget, batch).await
        } else {
            let (keys, args) = self.write_arguments(batch);
            self.eval(&self.write_script, keys, args).await
        };
        if let Ok(written) = written {
            self.count_written(sent, written);
        }
    }

    /// Counts `written` of `sent` values as written, the rest as refused.
    pub(super) fn count_written(&self, sent: u64, written: u64) {
        self.counters.writes.fetch_add(written, Relaxed);
        let refused = sent.saturating_sub(written);
        self.counters.writes_refused.fetch_add(refused, Relaxed);
    }

    /// The write script's keys and arguments for `batch` (see `scripts::WRITE`).
    pub(super) fn write_arguments(&self, batch: Vec<Write>) -> (Vec<String>, Vec<Vec<u8>>) {
        let mut keys = Vec::new();
        let mut args = Vec::with_capacity(1 + batch.len() * 6);
        args.push(batch.len().to_string().into_bytes());
        for write in batch {
            keys.push(self.value_key(write.key));
            keys.extend(write.tags.iter().map(|tag| self.tag_key(tag)));
            args.push(write.tags.len().to_string().into_bytes());
            args.push(write.generations);
            args.push(write.schema);
            args.push(if write.payload.is_some() {
                b"v".to_vec()
            } else {
                b"n".to_vec()
            });
            args.push(write.payload.unwrap_or_default());
            args.push(millis(write.ttl.max(Duration::from_millis(1))));
        }
        (keys, args)
    }
}

/// The oldest writes of `queued`, up to [`BATCH`] values and [`BATCH_BYTES`] of payload (at
/// least one).
fn take_batch(queued: &mut Vec<Write>) -> Vec<Write> {
    let mut bytes = 0;
    let mut end = 0;
    for write in queued.iter() {
        let size = write.payload.as_ref().map_or(0, Vec::len);
        if end > 0 && (end == BATCH || bytes + size > BATCH_BYTES) {
            break;
        }
        bytes += size;
        end += 1;
    }
    queued.drain(..end).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(payload: usize) -> Write {
        Write {
            key: 0,
            tags: Vec::new(),
            generations: Vec::new(),
            schema: Vec::new(),
            payload: Some(vec![0; payload]),
            ttl: Duration::from_secs(1),
            lease: None,
        }
    }

    #[test]
    fn batches_hold_up_to_batch_values_oldest_first() {
        let mut queued: Vec<Write> = (0..BATCH + 3).map(write).collect();
        let first = take_batch(&mut queued);
        assert_eq!(first.len(), BATCH);
        assert_eq!(first[1].payload.as_ref().map(Vec::len), Some(1));
        assert_eq!(take_batch(&mut queued).len(), 3);
        assert!(queued.is_empty());
    }

    #[test]
    fn batches_hold_up_to_batch_bytes_but_never_nothing() {
        let mut queued = vec![write(BATCH_BYTES * 2), write(10), write(BATCH_BYTES - 5)];
        assert_eq!(take_batch(&mut queued).len(), 1, "a large value goes alone");
        assert_eq!(
            take_batch(&mut queued).len(),
            1,
            "the next would pass the bound"
        );
        assert_eq!(take_batch(&mut queued).len(), 1);
    }
}
