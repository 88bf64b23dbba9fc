//! `SharedTier` as the engine sees it: the [`Tier`] seam, and the reads and deletes behind it.

use super::SharedTier;
use super::protocol::{ReadReply, millis, parse_read};
use super::random_u62;
use crate::clock::CoarseInstant;
use crate::tier::{
    Claim, Limits, Remote, RemoteRead, SharedStats, Tier, TierError, TierFuture, Write,
};
use redis::Value;
use std::pin::Pin;
use std::time::{Duration, Instant};

impl SharedTier {
    /// One round trip: the current generations of `tags` (created if missing) and, if
    /// `want_value`, the value of `key` if it was computed under exactly those generations.
    pub(crate) async fn read(
        &self,
        key: u128,
        tags: &[&str],
        entry_ttl: Duration,
        want_value: bool,
    ) -> Result<Remote, TierError> {
        // One budget for both: the call that reads is waiting. Measured on the coarse clock,
        // which a hit reads with one atomic load.
        let started = CoarseInstant::now();
        let budget = self.config.operation_timeout;
        let replaying = !self.pending.is_empty();
        self.replayed_within(budget).await?;
        if want_value {
            // Nothing replayed, nothing spent: the whole budget.
            let left = if replaying {
                budget.saturating_sub(started.elapsed())
            } else {
                budget
            };
            if let Some(hit) = self.plain_hit(left, key, tags).await? {
                return Ok(hit.remote);
            }
        }
        if self.is_cluster() {
            let read = RemoteRead {
                key,
                tags,
                entry_ttl,
                want_value,
            };
            let left = budget.saturating_sub(started.elapsed());
            let reply = self
                .cluster_read_many(left, std::slice::from_ref(&read))
                .await?
                .pop()
                .ok_or_else(|| TierError::Failed("no reply to the read".into()))?;
            return Ok(self.accept_reply(reply));
        }
        let mut keys = vec![self.value_key(key)];
        keys.extend(tags.iter().map(|tag| self.tag_key(tag)));
        let mut args = vec![
            if want_value {
                b"1".to_vec()
            } else {
                b"0".to_vec()
            },
            millis(tag_ttl(entry_ttl)),
        ];
        args.extend(tags.iter().map(|_| random_u62().to_string().into_bytes()));
        let left = budget.saturating_sub(started.elapsed());
        // Boxed: the script's read (1,232 bytes of future) would size every read's future, the
        // hit's included (1,440 bytes, past the size glibc's per-thread cache serves quickly;
        // 1,008 without it). A miss, which pays a script and a second round trip, pays this
        // allocation too.
        let value: Value =
            Box::pin(self.eval_read_within(left, &self.read_script, keys, args)).await?;
        let reply = parse_read(value)
            .ok_or_else(|| TierError::Failed("unexpected reply to the read script".into()))?;
        Ok(self.accept_reply(reply))
    }

    /// A read's answer, foreign data found on the way counted.
    fn accept_reply(&self, reply: ReadReply) -> Remote {
        if reply.foreign {
            self.count_rejected();
        }
        reply.remote
    }

    /// [`read`](Self::read) of several keys in one round trip (one script over all of them):
    /// a batch function's missing items.
    pub(crate) async fn read_many(
        &self,
        reads: &[RemoteRead<'_>],
    ) -> Result<Vec<Remote>, TierError> {
        let started = Instant::now();
        let budget = self.config.operation_timeout;
        self.replayed_within(budget).await?;
        if self.is_cluster() {
            let left = budget.saturating_sub(started.elapsed());
            let replies = self.cluster_read_many(left, reads).await?;
            return Ok(replies
                .into_iter()
                .map(|reply| self.accept_reply(reply))
                .collect());
        }
        let mut keys = Vec::new();
        let mut args = vec![reads.len().to_string().into_bytes()];
        for read in reads {
            keys.push(self.value_key(read.key));
            keys.extend(read.tags.iter().map(|tag| self.tag_key(tag)));
            args.push(read.tags.len().to_string().into_bytes());
            args.push(if read.want_value {
                b"1".to_vec()
            } else {
                b"0".to_vec()
            });
            args.push(millis(tag_ttl(read.entry_ttl)));
            args.extend(
                read.tags
                    .iter()
                    .map(|_| random_u62().to_string().into_bytes()),
            );
        }
        let left = budget.saturating_sub(started.elapsed());
        let value: Value = self
            .eval_read_within(left, &self.read_many_script, keys, args)
            .await?;
        let unexpected = || TierError::Failed("unexpected reply to the read script".into());
        let Value::Array(replies) = value else {
            return Err(unexpected());
        };
        if replies.len() != reads.len() {
            return Err(unexpected());
        }
        let mut remotes = Vec::with_capacity(replies.len());
        for reply in replies {
            let reply = parse_read(reply).ok_or_else(unexpected)?;
            remotes.push(self.accept_reply(reply));
        }
        Ok(remotes)
    }

    /// Deletes the value of `key` (for `forget`).
    pub(crate) async fn delete(&self, key: u128) -> Result<bool, TierError> {
        let started = Instant::now();
        let budget = self.config.operation_timeout;
        self.replayed_within(budget).await?;
        let value_key = self.value_key(key);
        let left = budget.saturating_sub(started.elapsed());
        self.run_within(left, move |mut connection| async move {
            redis::cmd("DEL")
                .arg(value_key)
                .query_async::<i64>(&mut connection)
                .await
        })
        .await
        .map(|n| n > 0)
    }
}

/// How long tag counters read for an entry live: they must outlive it.
pub(super) fn tag_ttl(entry_ttl: Duration) -> Duration {
    entry_ttl.saturating_mul(2).max(Duration::from_secs(3600))
}

impl Tier for SharedTier {
    fn read<'a>(
        &'a self,
        key: u128,
        tags: &'a [&'a str],
        entry_ttl: Duration,
        want_value: bool,
    ) -> TierFuture<'a, Remote> {
        Box::pin(SharedTier::read(self, key, tags, entry_ttl, want_value))
    }

    fn read_many<'a>(&'a self, reads: &'a [RemoteRead<'a>]) -> TierFuture<'a, Vec<Remote>> {
        Box::pin(SharedTier::read_many(self, reads))
    }

    fn write(&self, write: Write) {
        SharedTier::write(self, write);
    }

    fn write_now(&self, write: Write) -> TierFuture<'_, bool> {
        Box::pin(SharedTier::write_now(self, write))
    }

    fn increment(&self, key: u128, by: i64, ttl: Option<Duration>) -> TierFuture<'_, i64> {
        Box::pin(SharedTier::increment(self, key, by, ttl))
    }

    fn delete(&self, key: u128) -> TierFuture<'_, bool> {
        Box::pin(SharedTier::delete(self, key))
    }

    fn invalidate<'a>(&'a self, tags: &'a [&'a str]) -> TierFuture<'a, ()> {
        Box::pin(SharedTier::invalidate(self, tags))
    }

    fn limits(&self) -> Limits {
        Limits {
            l1_ttl_cap: self.l1_ttl_cap(),
            max_value_bytes: self.max_value_bytes(),
        }
    }

    fn count_refused(&self) {
        self.count_rejected();
    }

    fn stats(&self) -> SharedStats {
        SharedTier::stats(self)
    }

    fn coalesces(&self) -> bool {
        SharedTier::coalesces(self)
    }

    fn claim(&self, key: u128) -> TierFuture<'_, Claim> {
        Box::pin(SharedTier::claim(self, key))
    }

    fn wait_released(&self, key: u128) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(SharedTier::wait_released(self, key))
    }

    fn count_coalesced(&self) {
        SharedTier::count_coalesced(self);
    }
}
