//! Time, as the cache sees it: the system clock, or a clock that tests move by hand.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
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
    /// Alarms set on this clock, rung as it is moved.
    alarms: Arc<Alarms>,
}

impl ManualClock {
    /// A clock standing at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let now = self
            .nanos
            .fetch_add(by, Ordering::SeqCst)
            .saturating_add(by);
        self.alarms.ring(now);
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
#[inline]
pub(crate) fn now_nanos(manual: Option<&ManualClock>) -> u64 {
    match manual {
        Some(clock) => clock.now_nanos(),
        None => coarse_now_nanos(),
    }
}

/// Wakes at `deadline` on the clock TTLs are measured with (`manual`, else the coarse clock):
/// what a batch function's merge window waits on, so tests move it by hand like any TTL.
pub(crate) fn alarm(manual: Option<&ManualClock>, deadline: u64) -> Alarm {
    Alarm {
        deadline,
        manual: manual.cloned(),
    }
}

/// Whether alarms on this clock ring: a manual clock rings as it is moved; the coarse clock
/// when its thread runs (if none could be started, nothing would wake an alarm).
pub(crate) fn alarms_ring(manual: Option<&ManualClock>) -> bool {
    manual.is_some() || {
        coarse_now_nanos();
        TICKING.load(Ordering::Relaxed)
    }
}

/// A deadline on the cache's clock, as a future (see [`alarm`]).
pub(crate) struct Alarm {
    deadline: u64,
    manual: Option<ManualClock>,
}

impl Future for Alarm {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let manual = self.manual.as_ref();
        if now_nanos(manual) >= self.deadline {
            return Poll::Ready(());
        }
        match manual {
            Some(clock) => clock.alarms.set(self.deadline, cx.waker()),
            None => COARSE_ALARMS.set(self.deadline, cx.waker()),
        }
        // The clock may have passed the deadline (and rung) before the alarm was set.
        if now_nanos(manual) >= self.deadline {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Alarms set on one clock: the wakers to wake once it reaches their deadlines.
#[derive(Debug, Default)]
struct Alarms {
    /// How many are set: the coarse clock's thread skips the lock while none is.
    count: AtomicUsize,
    set: Mutex<Vec<(u64, Waker)>>,
}

impl Alarms {
    const fn new() -> Self {
        Alarms {
            count: AtomicUsize::new(0),
            set: Mutex::new(Vec::new()),
        }
    }

    fn set(&self, deadline: u64, waker: &Waker) {
        let mut set = self.set.lock().unwrap_or_else(PoisonError::into_inner);
        set.push((deadline, waker.clone()));
        self.count.store(set.len(), Ordering::SeqCst);
    }

    /// Wakes the alarms due at `now`.
    fn ring(&self, now: u64) {
        if self.count.load(Ordering::SeqCst) == 0 {
            return;
        }
        let mut due = Vec::new();
        {
            let mut set = self.set.lock().unwrap_or_else(PoisonError::into_inner);
            set.retain(|(deadline, waker)| {
                let ringing = *deadline <= now;
                if ringing {
                    due.push(waker.clone());
                }
                !ringing
            });
            self.count.store(set.len(), Ordering::SeqCst);
        }
        due.into_iter().for_each(Waker::wake);
    }
}

/// The alarms set on the coarse clock, rung by its thread on every tick.
static COARSE_ALARMS: Alarms = Alarms::new();
/// The coarse clock's thread runs.
static TICKING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// The coarse clock's reading, advanced by its thread.
static NOW: AtomicU64 = AtomicU64::new(0);
/// The wall clock in milliseconds since the Unix epoch, as of the coarse clock's last tick
/// (0 until it first ticks).
static UNIX_MILLIS: AtomicU64 = AtomicU64::new(0);

/// A point on the coarse clock ([`coarse_now_nanos`]): for the time budgets of the shared
/// tier's operations (hundreds of milliseconds), which a Redis hit would otherwise read the
/// system's clock for. It lags by about a millisecond, so a budget may run that much over.
#[cfg(feature = "redis")]
#[derive(Clone, Copy, Debug)]
pub(crate) struct CoarseInstant(u64);

#[cfg(feature = "redis")]
impl CoarseInstant {
    pub(crate) fn now() -> CoarseInstant {
        CoarseInstant(coarse_now_nanos())
    }

    pub(crate) fn elapsed(self) -> Duration {
        Duration::from_nanos(coarse_now_nanos().saturating_sub(self.0))
    }
}

/// The wall clock in milliseconds since the Unix epoch, as of the coarse clock's last tick (the
/// system's own clock until that ticks): what a Redis hit checks a shared value's expiry
/// against, with one atomic load instead of a system call's worth of clock reading (about 250
/// instructions a hit). Late by what [`coarse_now_nanos`] lags, a millisecond or so: a
/// shared value may be served that much past its expiry.
#[cfg(feature = "redis")]
pub(crate) fn coarse_unix_millis() -> u64 {
    match UNIX_MILLIS.load(Ordering::Relaxed) {
        0 => unix_millis(),
        now => now,
    }
}

/// The wall clock in milliseconds since the Unix epoch (0 if it stands before it).
fn unix_millis() -> u64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

/// Nanoseconds since the first call, as of the last tick: a monotonic clock read with one atomic
/// load. A thread of ours advances it every millisecond, so it lags real time by about that
/// (more if that thread is starved), which bounds how late an entry can be found expired.
///
/// Why not `Instant::now()` on every hit: it costs about as much as the rest of our hit path;
/// moka's per-entry expiry (which does read a clock on every `get`) costs ~33 ns per hit, see
/// ARCHITECTURE.md. Inlined (a hit reads it from the caller's crate); the start is not.
#[inline]
pub(crate) fn coarse_now_nanos() -> u64 {
    if TICKING.load(Ordering::Relaxed) {
        return NOW.load(Ordering::Relaxed);
    }
    coarse_now_nanos_starting()
}

/// [`coarse_now_nanos`] before its thread ticks: starts it on the first call.
#[cold]
#[inline(never)]
fn coarse_now_nanos_starting() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    let elapsed = |start: &Instant| u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
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
                    let now = elapsed(&start);
                    NOW.fetch_max(now, Ordering::Relaxed);
                    UNIX_MILLIS.store(unix_millis(), Ordering::Relaxed);
                    COARSE_ALARMS.ring(now);
                }
            });
        TICKING.store(spawned.is_ok(), Ordering::Relaxed);
    }
    // Until the ticker runs (or if no thread could be started), read the clock itself.
    elapsed(start)
}

/// The coarse clocks the shared tier reads (the monotonic one's alarms are tested with batching).
#[cfg(all(test, feature = "redis"))]
mod tests {
    use super::*;

    #[test]
    fn the_coarse_unix_clock_follows_the_systems() {
        let system = unix_millis();
        coarse_now_nanos(); // starts the coarse clock's thread
        let coarse = coarse_unix_millis();
        // Either the system's own reading (before the first tick) or a tick's: a millisecond
        // apart on a quiet machine; a minute bounds a starved thread on a loaded one.
        assert!(
            coarse.abs_diff(system) < 60_000,
            "coarse {coarse} ms, system {system} ms"
        );
        assert!(coarse > 1_700_000_000_000, "after 2023: {coarse}");
    }

    #[test]
    fn a_coarse_instant_measures_what_the_coarse_clock_advanced() {
        let started = CoarseInstant::now();
        // Until the clock's thread has ticked past a millisecond (it ticks every one).
        let give_up = std::time::Instant::now() + Duration::from_secs(30);
        while coarse_now_nanos() < started.0 + 1_000_000 {
            assert!(
                std::time::Instant::now() < give_up,
                "the coarse clock never ticked"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(started.elapsed() >= Duration::from_millis(1));
    }
}
