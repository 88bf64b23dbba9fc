//! The circuit breaker in front of Redis: after enough consecutive failures, operations fail
//! fast for a cool-down, then one probe decides whether Redis is back.
//!
//! Outcomes are recorded by the task that runs the operation on the tier's runtime, not by the
//! caller that asked for it (see `operation.rs`), so a caller dropped mid-probe (a client gone,
//! a `timeout`, a `select!`) cannot leave the breaker half-open. A probe that still has not
//! reported by its deadline (its task gone with a runtime shutting down) is replaced by the
//! next caller's.

use super::shared_incident;
use crate::tier::BreakerState;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

pub(super) struct Breaker {
    /// Read on every operation (whether it is closed and healthy), written only when an outcome
    /// changes it: a read lock, which concurrent hits take without waiting for one another.
    state: RwLock<State>,
    failures_to_open: u32,
    cooldown: Duration,
    /// How long a probe may take to report before another caller probes instead.
    probe_deadline: Duration,
}

#[derive(Clone, Copy)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probe_until: Instant },
}

impl Breaker {
    pub(super) fn new(failures_to_open: u32, cooldown: Duration, probe_deadline: Duration) -> Self {
        Breaker {
            state: RwLock::new(State::Closed { failures: 0 }),
            failures_to_open,
            cooldown,
            probe_deadline,
        }
    }

    /// Whether an operation may go to Redis now; after the cool-down, the caller that gets
    /// `true` is the probe.
    pub(super) fn allow(&self) -> bool {
        self.allow_at(Instant::now())
    }

    fn allow_at(&self, now: Instant) -> bool {
        if self.is_closed() {
            return true;
        }
        let mut state = self.write();
        match *state {
            State::Closed { .. } => true,
            State::Open { until } | State::HalfOpen { probe_until: until } if now >= until => {
                *state = State::HalfOpen {
                    probe_until: now + self.probe_deadline,
                };
                true
            }
            State::Open { .. } | State::HalfOpen { .. } => false,
        }
    }

    /// Whether operations go to Redis without a probe deciding first.
    pub(super) fn is_closed(&self) -> bool {
        matches!(*self.read(), State::Closed { .. })
    }

    /// Records an operation's outcome: `healthy` if Redis answered.
    pub(super) fn record(&self, healthy: bool) {
        if healthy && self.is_healthy() {
            // Nothing changes: no clock read, which a Redis hit would otherwise pay each time.
            return;
        }
        self.record_at(healthy, Instant::now());
    }

    /// Closed, with no failure counted.
    fn is_healthy(&self) -> bool {
        matches!(*self.read(), State::Closed { failures: 0 })
    }

    fn record_at(&self, healthy: bool, now: Instant) {
        let mut state = self.write();
        let was_closed = matches!(*state, State::Closed { .. });
        *state = match (*state, healthy) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.failures_to_open => {
                State::Closed {
                    failures: failures + 1,
                }
            }
            (_, false) => State::Open {
                until: now + self.cooldown,
            },
        };
        let is_closed = matches!(*state, State::Closed { .. });
        if was_closed != is_closed {
            let what = if is_closed {
                "breaker_closed"
            } else {
                "breaker_open"
            };
            shared_incident(what, "");
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn state(&self) -> BreakerState {
        self.state_at(Instant::now())
    }

    fn state_at(&self, now: Instant) -> BreakerState {
        match *self.read() {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { until } if now >= until => BreakerState::HalfOpen,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOLDOWN: Duration = Duration::from_secs(1);
    const PROBE: Duration = Duration::from_millis(200);

    #[test]
    fn opens_after_consecutive_failures_and_a_probe_closes_it() {
        let breaker = Breaker::new(2, COOLDOWN, PROBE);
        let t0 = Instant::now();
        breaker.record_at(false, t0);
        assert!(breaker.allow_at(t0), "one failure of two");
        breaker.record_at(false, t0);
        assert_eq!(breaker.state_at(t0), BreakerState::Open);
        assert!(!breaker.allow_at(t0 + COOLDOWN / 2));
        assert!(breaker.allow_at(t0 + COOLDOWN), "the probe");
        assert!(!breaker.allow_at(t0 + COOLDOWN), "one probe at a time");
        breaker.record_at(true, t0 + COOLDOWN);
        assert_eq!(breaker.state_at(t0 + COOLDOWN), BreakerState::Closed);
    }

    #[test]
    fn a_probe_that_never_reports_is_replaced_after_its_deadline() {
        let breaker = Breaker::new(1, COOLDOWN, PROBE);
        let t0 = Instant::now();
        breaker.record_at(false, t0);
        let probe = t0 + COOLDOWN;
        assert!(breaker.allow_at(probe), "the probe, which never reports");
        assert!(!breaker.allow_at(probe + PROBE / 2));
        assert_eq!(breaker.state_at(probe + PROBE / 2), BreakerState::HalfOpen);
        assert!(
            breaker.allow_at(probe + PROBE),
            "a new probe after the deadline"
        );
        breaker.record_at(true, probe + PROBE);
        assert!(breaker.allow_at(probe + PROBE));
    }

    #[test]
    fn a_failed_probe_opens_it_for_another_cooldown() {
        let breaker = Breaker::new(1, COOLDOWN, PROBE);
        let t0 = Instant::now();
        breaker.record_at(false, t0);
        assert!(breaker.allow_at(t0 + COOLDOWN));
        breaker.record_at(false, t0 + COOLDOWN);
        assert!(!breaker.allow_at(t0 + COOLDOWN + COOLDOWN / 2));
        assert!(breaker.allow_at(t0 + 2 * COOLDOWN));
    }
}
