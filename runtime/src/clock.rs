//! Time, as the cache sees it: the system clock, or a clock that tests move by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A clock that only moves when told to, for testing expiry without sleeping.
///
/// Install it with [`Config::clock`](crate::Config::clock) before the first cached call; every
/// entry's TTL is then measured against this clock instead of the system's.
///
/// ```
/// use std::time::Duration;
/// use cached_query_runtime::ManualClock;
///
/// let clock = ManualClock::new();
/// let handle = clock.clone();
/// handle.advance(Duration::from_secs(90));
/// assert_eq!(clock.elapsed(), Duration::from_secs(90));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(by, Ordering::SeqCst);
    }

    /// How far the clock has been moved since it was created.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.now_nanos())
    }

    pub(crate) fn now_nanos(&self) -> u64 {
        self.nanos.load(Ordering::SeqCst)
    }
}
