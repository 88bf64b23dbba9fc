//! Cross-instance single-flight (`RedisConfig::coalesce_across_instances`): leases on keys in
//! Redis, renewed while their holder computes, released once its value is written (or at once
//! if there is none); and the calls of this instance waiting for another's release.
//!
//! A lease is `{ns}:l:{key}` holding the holder's token, set with `SET NX PX`. Its release
//! deletes it (only if the token is still ours: an expired lease may have been taken over) and
//! publishes the key on the `done` channel, which wakes the waiters of every instance; a
//! waiter that misses the message polls every [`POLL`].

use super::SharedTier;
use super::protocol::millis;
use super::random_u62;
use crate::tier::{Claim, Lease, TierError};
use redis::Script;
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};
use std::time::Duration;
use tokio::sync::{Notify, oneshot};

/// How long a waiter waits for the release message before it looks again.
const POLL: Duration = Duration::from_millis(25);

/// Extends the lease if it is still ours. `KEYS[1]`: the lease; `ARGV`: token, lease (ms).
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
",
    )
});

/// Deletes the lease if it is still ours. `KEYS[1]`: the lease; `ARGV[1]`: token.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
",
    )
});

/// This instance's calls waiting for a release, by key.
#[derive(Default)]
pub(super) struct Waiters(Mutex<HashMap<u128, Arc<Notify>>>);

impl Waiters {
    fn register(&self, key: u128) -> Arc<Notify> {
        let mut waiters = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(waiters.entry(key).or_default())
    }

    /// Wakes the calls waiting for `key`.
    pub(super) fn released(&self, key: u128) {
        let notify = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&key);
        if let Some(notify) = notify {
            notify.notify_waiters();
        }
    }

    /// Forgets `key` once nobody waits for it any more.
    fn done_waiting(&self, key: u128, notify: Arc<Notify>) {
        let mut waiters = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // Still ours in the map (not replaced after a release), held by the map and by us
        // only: no other call waits on it.
        let ours = waiters
            .get(&key)
            .is_some_and(|current| Arc::ptr_eq(current, &notify));
        if ours && Arc::strong_count(&notify) <= 2 {
            waiters.remove(&key);
        }
    }
}

impl SharedTier {
    pub(super) fn coalesces(&self) -> bool {
        self.config.coalesce_lease.is_some()
    }

    /// Takes the lease on `key`, or learns that another instance holds it.
    pub(super) async fn claim(&self, key: u128) -> Result<Claim, TierError> {
        let Some(lease) = self.config.coalesce_lease else {
            return Err(TierError::Unavailable);
        };
        let lease_key = self.lease_key(key);
        let token = format!("{:016x}{:016x}", self.instance, random_u62());
        let (set_key, set_token) = (lease_key.clone(), token.clone());
        let taken: Option<String> = self
            .run_within(
                self.config.operation_timeout,
                move |mut connection| async move {
                    redis::cmd("SET")
                        .arg(set_key)
                        .arg(set_token)
                        .arg("NX")
                        .arg("PX")
                        .arg(millis(lease))
                        .query_async(&mut connection)
                        .await
                },
            )
            .await?;
        if taken.is_none() {
            return Ok(Claim::Held);
        }
        let (stop, stopped) = oneshot::channel::<()>();
        self.runtime.spawn(renew(
            self.me.clone(),
            lease_key.clone(),
            token.clone(),
            lease,
            stopped,
        ));
        let tier = self.me.clone();
        Ok(Claim::Leased(Lease::new(move || {
            drop(stop);
            if let Some(tier) = tier.upgrade() {
                let runtime = tier.runtime.handle().clone();
                runtime.spawn(async move { tier.release(key, lease_key, token).await });
            }
        })))
    }

    /// Deletes the lease (if still ours) and tells every instance.
    async fn release(&self, key: u128, lease_key: String, token: String) {
        let channel = self.channel("done");
        let publish = if self.is_cluster() {
            "SPUBLISH"
        } else {
            "PUBLISH"
        };
        let released = self
            .run_within(
                self.config.operation_timeout,
                move |connection| async move {
                    let mut invocation = RELEASE.prepare_invoke();
                    invocation.key(lease_key).arg(token);
                    let mut connection = connection;
                    invocation.invoke_async::<i64>(&mut connection).await?;
                    redis::cmd(publish)
                        .arg(channel)
                        .arg(format!("{key:032x}"))
                        .query_async::<i64>(&mut connection)
                        .await
                },
            )
            .await;
        // Unreleased, the lease runs out on its own: the waiters take over then.
        let _ = released;
    }

    /// Waits until a release of `key` is announced, or [`POLL`] passes (timed on the tier's
    /// runtime: the caller's may have no timer).
    pub(super) async fn wait_released(&self, key: u128) {
        let notify = self.lease_waiters.register(key);
        let waiting = Arc::clone(&notify);
        let _ = self
            .runtime
            .spawn(async move {
                let _ = tokio::time::timeout(POLL, waiting.notified()).await;
            })
            .await;
        self.lease_waiters.done_waiting(key, notify);
    }

    /// A message on the `done` channel: the key whose lease was released.
    pub(super) fn receive_release(&self, payload: &[u8]) {
        let key = std::str::from_utf8(payload)
            .ok()
            .and_then(|hex| u128::from_str_radix(hex, 16).ok());
        if let Some(key) = key {
            self.lease_waiters.released(key);
        }
    }

    pub(super) fn count_coalesced(&self) {
        self.counters.remote_coalesced.fetch_add(1, Relaxed);
    }
}

/// Renews the lease every third of its length until `stopped` (the lease was released or
/// dropped) or the lease is no longer ours.
async fn renew(
    tier: Weak<SharedTier>,
    lease_key: String,
    token: String,
    lease: Duration,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        if tokio::time::timeout(lease / 3, &mut stopped).await.is_ok() {
            return;
        }
        let Some(tier) = tier.upgrade() else {
            return;
        };
        let (key, token) = (lease_key.clone(), token.clone());
        let renewed: Result<i64, TierError> = tier
            .run_within(
                tier.config.operation_timeout,
                move |mut connection| async move {
                    let mut invocation = RENEW.prepare_invoke();
                    invocation.key(key).arg(token).arg(millis(lease));
                    invocation.invoke_async(&mut connection).await
                },
            )
            .await;
        // Lost (expired and taken over): the other holder computes too; nothing to renew.
        if matches!(renewed, Ok(0)) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_wakes_the_waiters_of_its_key_and_forgets_it() {
        let waiters = Waiters::default();
        let first = waiters.register(7);
        let second = waiters.register(7);
        assert!(Arc::ptr_eq(&first, &second), "one notification per key");
        waiters.released(7);
        // A waiter that registers after the release gets a new one, which the earlier
        // waiter's clean-up must not remove.
        let later = waiters.register(7);
        waiters.done_waiting(7, first);
        drop(second);
        let still = waiters.register(7);
        assert!(Arc::ptr_eq(&later, &still));
        waiters.done_waiting(7, still);
        drop(later);
        assert!(
            waiters.0.lock().unwrap().contains_key(&7),
            "the later waiter still waits"
        );
    }
}
