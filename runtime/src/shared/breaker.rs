//! The circuit breaker in front of Redis: after enough consecutive failures, operations fail
//! fast for a cool-down, then one probe decides whether Redis is back.

use super::shared_incident;
use crate::tier::BreakerState;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

pub(super) struct Breaker {
    state: Mutex<BreakerInner>,
    failures_to_open: u32,
    cooldown: Duration,
}

enum BreakerInner {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen,
}

impl Breaker {
    pub(super) fn new(failures_to_open: u32, cooldown: Duration) -> Breaker {
        Breaker {
            state: Mutex::new(BreakerInner::Closed { failures: 0 }),
            failures_to_open,
            cooldown,
        }
    }

    pub(super) fn allow(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match *state {
            BreakerInner::Closed { .. } => true,
            BreakerInner::Open { until } if Instant::now() >= until => {
                *state = BreakerInner::HalfOpen;
                true
            }
            BreakerInner::Open { .. } | BreakerInner::HalfOpen => false,
        }
    }

    pub(super) fn record(&self, ok: bool) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let was_closed = matches!(*state, BreakerInner::Closed { .. });
        *state = match (&*state, ok) {
            (_, true) => BreakerInner::Closed { failures: 0 },
            (BreakerInner::Closed { failures }, false) if failures + 1 < self.failures_to_open => {
                BreakerInner::Closed {
                    failures: failures + 1,
                }
            }
            (_, false) => BreakerInner::Open {
                until: Instant::now() + self.cooldown,
            },
        };
        let is_closed = matches!(*state, BreakerInner::Closed { .. });
        if was_closed != is_closed {
            let what = if is_closed {
                "breaker_closed"
            } else {
                "breaker_open"
            };
            shared_incident(what, "");
        }
    }

    pub(super) fn state(&self) -> BreakerState {
        match *self.state.lock().unwrap_or_else(PoisonError::into_inner) {
            BreakerInner::Closed { .. } => BreakerState::Closed,
            BreakerInner::Open { until } if Instant::now() >= until => BreakerState::HalfOpen,
            BreakerInner::Open { .. } => BreakerState::Open,
            BreakerInner::HalfOpen => BreakerState::HalfOpen,
        }
    }
}
