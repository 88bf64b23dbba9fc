//! Invalidation across instances: one script bumps the tags in Redis and publishes them; the
//! caller waits until as many instances as received the message have acknowledged it.

use super::SharedTier;
use super::protocol::{Message, encode_message};
use crate::tier::TierError;
use std::sync::PoisonError;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;
use tokio::sync::watch;

impl SharedTier {
    /// Bumps `tags` in Redis, tells every instance, and waits until each has applied it.
    pub(crate) async fn invalidate(&self, tags: &[&str]) -> Result<(), TierError> {
        if tags.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let id = self.next_message.fetch_add(1, Relaxed);
        let (acked, mut acks) = watch::channel(0u64);
        self.acks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, acked);
        let message = Message {
            origin: self.instance,
            id,
            tags: tags.iter().map(|t| (*t).to_string()).collect(),
        };
        let payload = encode_message(&message);
        let keys = tags.iter().map(|tag| self.tag_key(tag)).collect();
        let args = vec![self.channel("inv").into_bytes(), payload];
        let receivers: Result<u64, TierError> =
            self.eval(&self.invalidate_script, keys, args).await;
        let outcome = match receivers {
            Err(e) => Err(e),
            Ok(receivers) => {
                let budget = self
                    .config
                    .operation_timeout
                    .saturating_sub(started.elapsed());
                let waited = self
                    .runtime
                    .spawn(async move {
                        tokio::time::timeout(budget, async move {
                            acks.wait_for(|n| *n >= receivers).await.map(|_| ())
                        })
                        .await
                    })
                    .await;
                match waited {
                    Ok(Ok(Ok(_))) => Ok(()),
                    _ => Err(TierError::TimedOut),
                }
            }
        };
        self.acks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        outcome
    }
}
