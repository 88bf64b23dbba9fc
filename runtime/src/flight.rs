//! Single-flight: concurrent misses of one key run the function once.
//!
//! The first miss of a key registers a [`Flight`] and leads; later misses of the same key wait
//! for what the flight publishes. The leader removes the flight from the map *before*
//! publishing, so a waiter that retries never finds the finished flight again. A leader that
//! panics or is cancelled publishes [`Published::Nothing`] as it is dropped: waiters retry, and
//! one of them leads.
//!
//! A flight is one allocation: its outcome behind a mutex and one `Notify` (a `watch` channel
//! took two allocations, one of them 220 bytes, and woke its waiters through eight `Notify`s,
//! each behind its own lock, for every miss, waiters or not).

use crate::store::{Entry, PrehashedKey};
use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;

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
    /// `Pending` until the leader publishes (or is dropped: `Nothing`).
    published: Mutex<Published>,
    /// Wakes the waiters when `published` leaves `Pending`.
    changed: Notify,
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
        let flight = Flight::new();
        shard.insert(key, Arc::clone(&flight));
        Joined::Lead(Leader {
            flights: self,
            key,
            flight,
            published: false,
            role: Role::Leads,
        })
    }

    /// Registers a computation of `key` that runs outside single-flight (`refresh`): it
    /// publishes to no one, but [`doom`](Self::doom) reaches it like a leader, so that a `put`
    /// or a `forget` of the key while it runs keeps its older result out of the store.
    pub(crate) fn watch(&'static self, key: u128) -> Leader {
        let flight = Flight::new();
        self.watched(key)
            .entry(key)
            .or_default()
            .push(Arc::clone(&flight));
        Leader {
            flights: self,
            key,
            flight,
            published: false,
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
    /// Whether [`publish`](Leader::publish) ran.
    published: bool,
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
            // Out of the map, the flight gains no waiter: if none holds it, there is no one to
            // tell (most computations, and a Redis hit's: its lock and wake-up list skipped).
            if Arc::strong_count(&self.flight) > 1 {
                self.flight.settle(published);
            }
        }
        self.published = true;
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        match self.role {
            Role::Leads if !self.published => {
                self.flights.remove(self.key, &self.flight);
                self.flight.settle(Published::Nothing);
            }
            Role::Leads => {}
            Role::Watched => self.flights.unwatch(self.key, &self.flight),
        }
    }
}

impl Flight {
    fn new() -> Arc<Flight> {
        Arc::new(Flight {
            published: Mutex::new(Published::Pending),
            changed: Notify::new(),
            doomed: AtomicBool::new(false),
        })
    }

    fn published(&self) -> std::sync::MutexGuard<'_, Published> {
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes the outcome and wakes every waiter.
    fn settle(&self, published: Published) {
        *self.published() = published;
        self.changed.notify_waiters();
    }

    /// Waits for the leader to publish; `Published::Nothing` if it went away without doing so.
    pub(crate) async fn outcome(&self) -> Published {
        loop {
            // Registered before the outcome is looked at: a `settle` in between still wakes it.
            let changed = self.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            {
                let current = self.published();
                if !matches!(*current, Published::Pending) {
                    return current.clone();
                }
            }
            changed.await;
        }
    }
}
