//! Single-flight: concurrent misses of one key run the function once.
//!
//! The first miss of a key registers a [`Flight`] and leads; later misses of the same key wait on
//! the flight's watch channel. The leader removes the flight from the map *before* publishing, so
//! a waiter that retries never finds the finished flight again. A leader that panics or is
//! cancelled drops its sender without publishing: waiters see the channel close and retry, and
//! one of them leads.

use crate::store::{Entry, PrehashedKey};
use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::watch;

/// What a finished computation hands to its waiters.
#[derive(Clone)]
pub(crate) enum Published {
    Pending,
    /// The entry the leader stored.
    Value(Arc<Entry>),
    /// A result that was not cached (an `Err`, a `None`), shared because the return type is
    /// `Clone`: each waiter clones it out.
    Shared(Arc<Mutex<Box<dyn Any + Send>>>),
    /// Nothing to share: waiters retry, and one of them runs the function.
    Nothing,
    /// The function failed and the leader served this expired entry instead
    /// (`stale_if_error`): waiters may serve it too.
    Stale(Arc<Entry>),
}

pub(crate) struct Flight {
    published: watch::Receiver<Published>,
    /// Set by `forget` while the computation runs: its result must not be stored.
    doomed: AtomicBool,
}

pub(crate) enum Joined {
    Lead(Leader),
    Wait(Arc<Flight>),
}

const SHARDS: usize = 16;

/// Keys are 128-bit hashes already: the store's pass-through hasher, not SipHash again.
type Shard = Mutex<HashMap<u128, Arc<Flight>, PrehashedKey>>;

/// Computations that run outside single-flight (`refresh`), by key: nobody waits on them, but
/// a `doom` must reach them too.
type Watched = Mutex<HashMap<u128, Vec<Arc<Flight>>, PrehashedKey>>;

pub(crate) struct Flights {
    shards: Box<[Shard]>,
    watched: Box<[Watched]>,
}

impl Default for Flights {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            watched: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl Flights {
    fn shard(&self, key: u128) -> &Shard {
        &self.shards[(key as usize) % SHARDS]
    }

    pub(crate) fn join_or_lead(&'static self, key: u128) -> Joined {
        let mut shard = self
            .shard(key)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(flight) = shard.get(&key) {
            return Joined::Wait(Arc::clone(flight));
        }
        let (sender, published) = watch::channel(Published::Pending);
        let flight = Arc::new(Flight {
            published,
            doomed: AtomicBool::new(false),
        });
        shard.insert(key, Arc::clone(&flight));
        Joined::Lead(Leader {
            flights: self,
            key,
            flight,
            sender: Some(sender),
            role: Role::Leads,
        })
    }

    /// Registers a computation of `key` that runs outside single-flight (`refresh`): it
    /// publishes to no one, but [`doom`](Self::doom) reaches it like a leader, so that a `put`
    /// or a `forget` of the key while it runs keeps its older result out of the store.
    pub(crate) fn watch(&'static self, key: u128) -> Leader {
        let (_, published) = watch::channel(Published::Pending);
        let flight = Arc::new(Flight {
            published,
            doomed: AtomicBool::new(false),
        });
        self.watched(key)
            .entry(key)
            .or_default()
            .push(Arc::clone(&flight));
        Leader {
            flights: self,
            key,
            flight,
            sender: None,
            role: Role::Watched,
        }
    }

    fn watched(
        &self,
        key: u128,
    ) -> std::sync::MutexGuard<'_, HashMap<u128, Vec<Arc<Flight>>, PrehashedKey>> {
        self.watched[(key as usize) % SHARDS]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn unwatch(&self, key: u128, flight: &Arc<Flight>) {
        let mut watched = self.watched(key);
        if let Some(flights) = watched.get_mut(&key) {
            flights.retain(|f| !Arc::ptr_eq(f, flight));
            if flights.is_empty() {
                watched.remove(&key);
            }
        }
    }

    /// Marks the running computation of `key`, if any, so that its result is not stored.
    pub(crate) fn doom(&self, key: u128) {
        let shard = self
            .shard(key)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(flight) = shard.get(&key) {
            flight.doomed.store(true, Ordering::SeqCst);
        }
        drop(shard);
        if let Some(flights) = self.watched(key).get(&key) {
            for flight in flights {
                flight.doomed.store(true, Ordering::SeqCst);
            }
        }
    }

    fn remove(&self, key: u128, flight: &Arc<Flight>) {
        let mut shard = self
            .shard(key)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if shard.get(&key).is_some_and(|f| Arc::ptr_eq(f, flight)) {
            shard.remove(&key);
        }
    }
}

/// The right (and duty) to compute a key. Dropping it unpublished (panic, cancellation) frees
/// the key and wakes the waiters.
pub(crate) struct Leader {
    flights: &'static Flights,
    key: u128,
    flight: Arc<Flight>,
    sender: Option<watch::Sender<Published>>,
    role: Role,
}

/// How a computation is registered: as the key's single flight, or only watched for `doom`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Leads,
    Watched,
}

impl Leader {
    /// Whether this is the key's single flight (others wait on it), not a watched refresh.
    pub(crate) fn leads(&self) -> bool {
        self.role == Role::Leads
    }

    pub(crate) fn is_doomed(&self) -> bool {
        self.flight.doomed.load(Ordering::SeqCst)
    }

    /// The flight this leader publishes to: a batch call that hands its claim to another
    /// call's merged computation waits on it like any waiter.
    pub(crate) fn flight(&self) -> Arc<Flight> {
        Arc::clone(&self.flight)
    }

    pub(crate) fn publish(mut self, published: Published) {
        if self.role == Role::Leads {
            self.flights.remove(self.key, &self.flight);
        }
        if let Some(sender) = self.sender.take() {
            sender.send_replace(published);
        }
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        match self.role {
            Role::Leads if self.sender.is_some() => self.flights.remove(self.key, &self.flight),
            Role::Leads => {}
            Role::Watched => self.flights.unwatch(self.key, &self.flight),
        }
    }
}

impl Flight {
    /// Waits for the leader to publish; `Published::Nothing` if it went away without doing so.
    pub(crate) async fn outcome(&self) -> Published {
        let mut published = self.published.clone();
        loop {
            {
                let current = published.borrow_and_update();
                if !matches!(*current, Published::Pending) {
                    return current.clone();
                }
            }
            if published.changed().await.is_err() {
                let last = published.borrow().clone();
                return match last {
                    Published::Pending => Published::Nothing,
                    other => other,
                };
            }
        }
    }
}
