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

/// Now, in nanoseconds, on the clock TTLs are measured with: `manual` when a test installed
/// one, else the coarse monotonic clock.
pub(crate) fn now_nanos(manual: Option<&ManualClock>) -> u64 {
    match manual {
        Some(clock) => clock.now_nanos(),
        None => coarse_now_nanos(),
    }
}

/// Nanoseconds since the first call, as of the last tick: a monotonic clock read with one atomic
/// load. A thread of ours advances it every millisecond, so it lags real time by about that
/// (more if that thread is starved), which bounds how late an entry can be found expired.
///
/// Why not `Instant::now()` on every hit: it costs about as much as the rest of our hit path;
/// moka's per-entry expiry (which does read a clock on every `get`) costs ~33 ns per hit, see
/// ARCHITECTURE.md.
pub(crate) fn coarse_now_nanos() -> u64 {
    use std::sync::OnceLock;
    use std::sync::atomic::AtomicBool;
    use std::time::Instant;
    static NOW: AtomicU64 = AtomicU64::new(0);
    static TICKING: AtomicBool = AtomicBool::new(false);
    static START: OnceLock<Instant> = OnceLock::new();
    let elapsed = |start: &Instant| u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    if TICKING.load(Ordering::Relaxed) {
        return NOW.load(Ordering::Relaxed);
    }
    let mut first = false;
    let start = START.get_or_init(|| {
        first = true;
        Instant::now()
    });
    if first {
        let start = *start;
        NOW.store(elapsed(&start), Ordering::Relaxed);
        let spawned = std::thread::Builder::new()
            .name("cached-query-clock".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_millis(1));
                    NOW.fetch_max(elapsed(&start), Ordering::Relaxed);
                }
            });
        TICKING.store(spawned.is_ok(), Ordering::Relaxed);
    }
    // Until the ticker runs (or if no thread could be started), read the clock itself.
    elapsed(start)
}
