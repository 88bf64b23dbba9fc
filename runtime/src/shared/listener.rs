//! The pub/sub listener: applies every instance's invalidations to this instance's tag cells
//! and acknowledges them, reconnecting with a backoff when the subscription drops.

use super::SharedTier;
use super::protocol::{Message, decode_message, encode_message};
use crate::tags::{SHARED_EPOCH_TAG, TagRegistry};
use futures_util::StreamExt;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

impl SharedTier {
    /// Listens to invalidations (and acknowledgements) until the process ends, reconnecting.
    pub(super) async fn listen(self: Arc<Self>, tags: Arc<TagRegistry>) {
        let Some(client) = self.client.clone() else {
            return;
        };
        let invalidations = self.channel("inv");
        let acks = self.channel("ack");
        let mut backoff = Duration::from_millis(50);
        loop {
            let connected = tokio::time::timeout(self.config.connect_timeout, async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&invalidations).await?;
                pubsub.subscribe(&acks).await?;
                redis::RedisResult::Ok(pubsub)
            })
            .await;
            if let Ok(Ok(pubsub)) = connected {
                backoff = Duration::from_millis(50);
                // Messages sent while this instance was not listening are lost: treat what it
                // holds of shared functions as stale (local ones never depended on a message).
                tags.invalidate(SHARED_EPOCH_TAG);
                self.subscribed.store(true, Relaxed);
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    let Some(decoded) = decode_message(message.get_payload_bytes()) else {
                        continue;
                    };
                    if message.get_channel_name() == invalidations {
                        self.counters.invalidations_received.fetch_add(1, Relaxed);
                        for tag in &decoded.tags {
                            tags.invalidate(tag);
                        }
                        self.acknowledge(&decoded).await;
                    } else if decoded.origin == self.instance {
                        let acks = self.acks.lock().unwrap_or_else(PoisonError::into_inner);
                        if let Some(acked) = acks.get(&decoded.id) {
                            acked.send_modify(|n| *n += 1);
                        }
                    }
                }
                self.subscribed.store(false, Relaxed);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }

    pub(super) async fn acknowledge(&self, message: &Message) {
        let Some(connection) = self.connection.clone() else {
            return;
        };
        let ack = encode_message(&Message {
            origin: message.origin,
            id: message.id,
            tags: Vec::new(),
        });
        let channel = self.channel("ack");
        let mut connection = connection;
        let mut command = redis::cmd("PUBLISH");
        command.arg(channel).arg(ack);
        let publish = command.query_async::<i64>(&mut connection);
        // Best effort: a lost ack makes the invalidating call report a timeout, not a stale read.
        let _ = tokio::time::timeout(self.config.operation_timeout, publish).await;
    }
}
