//! The pub/sub listener: applies every instance's invalidations to this instance's tag cells
//! and acknowledges them, resubscribing when the subscription drops. One server: `SUBSCRIBE` on
//! a connection of its own. A cluster: `SSUBSCRIBE` (sharded pub/sub; both channels share a
//! hash tag, so one shard carries them) on a RESP3 cluster connection whose pushes come here.
//! With cross-instance single-flight, a third channel announces released leases.

use super::SharedTier;
use super::connection::Subscriber;
use super::protocol::{Message, decode_message, encode_message};
use crate::tags::{SHARED_EPOCH_TAG, TagRegistry};
use futures_util::StreamExt;
use redis::{PushInfo, PushKind, Value};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const LAST_BACKOFF: Duration = Duration::from_secs(1);

impl SharedTier {
    /// Listens to invalidations (and acknowledgements) until the process ends, reconnecting.
    pub(super) async fn listen(self: Arc<Self>, tags: Arc<TagRegistry>) {
        match self.subscriber.clone() {
            Some(Subscriber::Single(client)) => self.listen_to_server(client, tags).await,
            Some(Subscriber::Cluster(nodes)) => self.listen_to_cluster(nodes, tags).await,
            None => {}
        }
    }

    async fn listen_to_server(self: Arc<Self>, client: redis::Client, tags: Arc<TagRegistry>) {
        let invalidations = self.channel("inv");
        let acks = self.channel("ack");
        let mut backoff = FIRST_BACKOFF;
        loop {
            let connected = tokio::time::timeout(self.config.connect_timeout, async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&invalidations).await?;
                pubsub.subscribe(&acks).await?;
                if self.coalesces() {
                    pubsub.subscribe(self.channel("done")).await?;
                }
                redis::RedisResult::Ok(pubsub)
            })
            .await;
            if let Ok(Ok(pubsub)) = connected {
                backoff = FIRST_BACKOFF;
                self.subscribed_again(&tags);
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    self.receive(
                        &tags,
                        message.get_channel_name(),
                        message.get_payload_bytes(),
                    )
                    .await;
                }
                self.unsubscribed();
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(LAST_BACKOFF);
        }
    }

    /// On a cluster: redis-rs' cluster connection resubscribes by itself after a node's connection
    /// drops; [`Self::listen_on_cluster`] subscribes until a confirmation arrives, and again after
    /// any disconnection (it cannot tell which node's it was).
    ///
    /// Each connection has a push channel of its own, dropped with it. A connection given up (its
    /// subscription timed out) still delivers pushes for a while (its disconnection was seen
    /// arriving after it was dropped), so its `SSUBSCRIBE` may yet be confirmed. Had that
    /// confirmation reached the next connection's loop, this instance would count itself subscribed
    /// with no subscription anywhere, and every other instance's invalidation would return `Ok`
    /// without reaching it (the likely cause of stale reads seen after a cluster restart under
    /// load).
    async fn listen_to_cluster(self: Arc<Self>, nodes: Vec<String>, tags: Arc<TagRegistry>) {
        let mut channels = vec![self.channel("inv"), self.channel("ack")];
        if self.coalesces() {
            channels.push(self.channel("done"));
        }
        let mut backoff = FIRST_BACKOFF;
        loop {
            let (sender, pushes) = tokio::sync::mpsc::unbounded_channel();
            let client =
                redis::cluster::ClusterClientBuilder::new(nodes.iter().map(String::as_str))
                    .use_protocol(redis::ProtocolVersion::RESP3)
                    .push_sender(sender)
                    .connection_timeout(self.config.connect_timeout)
                    .response_timeout(self.config.operation_timeout)
                    .build();
            let Ok(client) = client else {
                return;
            };
            let connected =
                tokio::time::timeout(self.config.connect_timeout, client.get_async_connection())
                    .await;
            if let Ok(Ok(connection)) = connected
                && self
                    .listen_on_cluster(connection, pushes, &channels, &tags)
                    .await
            {
                backoff = FIRST_BACKOFF;
            }
            // Whatever that connection confirmed goes with it.
            self.unsubscribed();
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(LAST_BACKOFF);
        }
    }

    /// Subscribes on `connection` and applies its pushes, until a subscription attempt fails:
    /// a connection that lost every node may never find the cluster again (its slot map is
    /// gone), so the caller starts afresh from the seeds. Whether a push ever arrived: the
    /// caller backs off further when none did (a cluster that accepts connections and refuses
    /// subscriptions is not retried every few milliseconds).
    async fn listen_on_cluster(
        &self,
        mut connection: redis::cluster_async::ClusterConnection,
        mut pushes: tokio::sync::mpsc::UnboundedReceiver<PushInfo>,
        channels: &[String],
        tags: &TagRegistry,
    ) -> bool {
        let mut backoff = FIRST_BACKOFF;
        let mut heard = false;
        loop {
            if !self.subscribed.load(Relaxed) {
                let subscribed = tokio::time::timeout(
                    self.config.operation_timeout,
                    connection.ssubscribe(channels),
                )
                .await;
                if !matches!(subscribed, Ok(Ok(()))) {
                    return heard;
                }
            }
            let wait = if self.subscribed.load(Relaxed) {
                LAST_BACKOFF
            } else {
                backoff
            };
            match tokio::time::timeout(wait, pushes.recv()).await {
                Ok(Some(push)) => {
                    backoff = FIRST_BACKOFF;
                    heard = true;
                    self.receive_push(tags, push).await;
                    // Take what else has arrived before subscribing again.
                    while let Ok(push) = pushes.try_recv() {
                        self.receive_push(tags, push).await;
                    }
                }
                Ok(None) => return heard,
                Err(_elapsed) => backoff = (backoff * 2).min(LAST_BACKOFF),
            }
        }
    }

    async fn receive_push(&self, tags: &TagRegistry, push: PushInfo) {
        match push.kind {
            PushKind::SMessage => {
                if let [Value::BulkString(channel), Value::BulkString(payload)] =
                    push.data.as_slice()
                    && let Ok(channel) = std::str::from_utf8(channel)
                {
                    self.receive(tags, channel, payload).await;
                }
            }
            PushKind::SSubscribe => self.subscribed_again(tags),
            PushKind::Disconnection => self.unsubscribed(),
            _ => {}
        }
    }

    /// Messages sent while this instance was not listening are lost: what it holds of shared
    /// functions is treated as stale (local ones never depended on a message).
    fn subscribed_again(&self, tags: &TagRegistry) {
        tags.invalidate(SHARED_EPOCH_TAG);
        self.mirror.clear();
        self.subscribed.store(true, Relaxed);
    }

    /// The subscription dropped: the mirror is neither used nor trusted until it is back.
    fn unsubscribed(&self) {
        self.subscribed.store(false, Relaxed);
        self.mirror.clear();
    }

    /// One message: an invalidation (applied, then acknowledged) or an acknowledgement of one
    /// of ours.
    async fn receive(&self, tags: &TagRegistry, channel: &str, payload: &[u8]) {
        if channel == self.channel("done") {
            self.receive_release(payload);
            return;
        }
        let Some(decoded) = decode_message(payload) else {
            return;
        };
        if channel == self.channel("inv") {
            self.counters.invalidations_received.fetch_add(1, Relaxed);
            // The mirror first, then the cells: a computation that takes its stamps after a
            // cell moved must not then find the old generations in the mirror (it would judge
            // the old value in Redis a hit and keep it in memory under the new stamps: fresh,
            // and stale). Both before the acknowledgement: once the invalidating call has every
            // one, no instance's mirror holds the old generations.
            self.mirror.forget(&decoded.tags);
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

    pub(super) async fn acknowledge(&self, message: &Message) {
        let Some(mut connection) = self.connection.clone() else {
            return;
        };
        let ack = encode_message(&Message {
            origin: message.origin,
            id: message.id,
            tags: Vec::new(),
        });
        let publish = if self.is_cluster() {
            "SPUBLISH"
        } else {
            "PUBLISH"
        };
        let mut command = redis::cmd(publish);
        command.arg(self.channel("ack")).arg(ack);
        let publish = command.query_async::<i64>(&mut connection);
        // Best effort: a lost ack makes the invalidating call report a timeout, not a stale read.
        let _ = tokio::time::timeout(self.config.operation_timeout, publish).await;
    }
}
