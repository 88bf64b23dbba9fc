//! Helpers shared by the test binaries: counts of a function, waiting on a condition without
//! sleeping, polling a future once, and the manual-clock fixture. Each binary includes this
//! module and uses part of it.
#![allow(dead_code, unreachable_pub)] // each binary uses part of it, from its own root

use cached_query::{Config, Counts, ManualClock};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use tokio::sync::{Mutex, MutexGuard};

/// The counts of one function (by its name or trailing path segments) in the current instance.
pub fn counts(function: &str) -> Counts {
    cached_query::stats()
        .function(function)
        .map(|f| f.counts)
        .unwrap_or_default()
}

/// Waits (yielding, never sleeping) until `condition` holds.
pub async fn until(mut condition: impl FnMut() -> bool) {
    for _ in 0..1_000_000 {
        if condition() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition never held");
}

/// Polls `call` once: `Some` if it answered without waiting for anything.
pub fn answer_at_once<F: Future>(call: F) -> Option<F::Output> {
    let mut call = pin!(call);
    match call.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// Installs `config` with a new manual clock as this binary's process-wide configuration (the
/// first thing the binary does) and returns the clock.
pub fn install_manual_clock(config: Config) -> ManualClock {
    let clock = ManualClock::new();
    let installed = config.clock(clock.clone()).ttl_jitter(0.0).install();
    assert!(installed.is_ok(), "the first thing this binary does");
    clock
}

/// Tests that move one shared clock run one at a time: hold this while moving it.
pub async fn one_at_a_time() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::const_new(());
    SERIAL.lock().await
}

/// A minimal executor without tokio: polls on this thread, parking between wake-ups.
pub fn block_on<F: Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::Wake;
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
            return output;
        }
        std::thread::park();
    }
}
