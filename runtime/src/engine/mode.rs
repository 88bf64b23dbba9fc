//! Calling modes scoped to one future (`forget`, `forget_all`, `refresh`, `bypass`, and the
//! put of `#[cache_put]`), and the
//! keys being computed on this thread (so a body that calls itself is not made to wait for
//! itself).
//!
//! A mode lives in a thread-local that the scope's future installs around each poll of the
//! future it wraps (and restores afterwards, even on panic), so it follows the call wherever the
//! executor polls it and never leaks to other tasks. The engine reads it at the top of each
//! cached call. `refresh`, `forget` and `forget_all` are consumed by the first cached call they
//! meet, so cached calls made *inside* that call's body behave normally; `bypass` holds for
//! everything inside it.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::task::Poll;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Normal,
    Bypass,
    Refresh,
    Forget,
    ForgetAll,
    /// `#[cache_put]`: the first cached call prepares its entry for a value given later
    /// (`engine/put.rs`); its body never runs.
    Put,
    /// A `forget`/`forget_all` did its work: `true` if an entry was removed (for a put: whether
    /// its entry was prepared).
    Done(bool),
}

thread_local! {
    static MODE: Cell<Mode> = const { Cell::new(Mode::Normal) };
    /// Keys whose computation is being polled on this thread, innermost last.
    static COMPUTING: RefCell<Vec<u128>> = const { RefCell::new(Vec::new()) };
}

#[inline]
pub(crate) fn current() -> Mode {
    MODE.with(Cell::get)
}

/// No calling mode in force: the call is a plain cached call.
#[inline]
pub(crate) fn is_plain() -> bool {
    matches!(current(), Mode::Normal | Mode::Done(_))
}

/// The first cached call takes a one-shot mode; calls inside its body see `Normal`.
pub(crate) fn consume() {
    MODE.with(|m| m.set(Mode::Normal));
}

pub(crate) fn finish(removed: bool) {
    MODE.with(|m| m.set(Mode::Done(removed)));
}

struct Restore(Mode);

impl Drop for Restore {
    fn drop(&mut self) {
        MODE.with(|m| m.set(self.0));
    }
}

/// Polls `future` once with `mode` installed, and records the mode it left behind.
fn poll_in<F: Future>(
    mode: &mut Mode,
    future: std::pin::Pin<&mut F>,
    cx: &mut std::task::Context<'_>,
) -> Poll<F::Output> {
    let restore = Restore(MODE.with(|m| m.replace(*mode)));
    let polled = future.poll(cx);
    *mode = MODE.with(Cell::get);
    drop(restore);
    polled
}

/// Runs `future` under a one-shot mode; `Err(removed)` once the mode has done its work.
pub(crate) async fn one_shot<F: Future>(mode: Mode, future: F) -> Result<F::Output, bool> {
    let mut future = std::pin::pin!(future);
    let mut mode = mode;
    std::future::poll_fn(move |cx| match poll_in(&mut mode, future.as_mut(), cx) {
        Poll::Ready(output) => Poll::Ready(Ok(output)),
        Poll::Pending => match mode {
            Mode::Done(removed) => Poll::Ready(Err(removed)),
            _ => Poll::Pending,
        },
    })
    .await
}

/// Runs `future` to completion under `mode`.
pub(crate) async fn scoped<F: Future>(mode: Mode, future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut mode = mode;
    std::future::poll_fn(move |cx| poll_in(&mut mode, future.as_mut(), cx)).await
}

/// Runs `body` (a leader's computation of `key`) with `key` marked as computing on this thread.
pub(crate) async fn computing<F: Future>(key: u128, body: F) -> F::Output {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            COMPUTING.with(|c| c.borrow_mut().pop());
        }
    }
    let mut body = std::pin::pin!(body);
    std::future::poll_fn(move |cx| {
        COMPUTING.with(|c| c.borrow_mut().push(key));
        let _pop = Pop;
        body.as_mut().poll(cx)
    })
    .await
}

/// Runs `body` (a batch leader's computation of several keys) with each of `keys` marked as
/// computing on this thread, as [`computing`] does for one.
pub(crate) async fn computing_many<F: Future>(keys: Vec<u128>, body: F) -> F::Output {
    struct Truncate(usize);
    impl Drop for Truncate {
        fn drop(&mut self) {
            COMPUTING.with(|c| c.borrow_mut().truncate(self.0));
        }
    }
    let mut body = std::pin::pin!(body);
    std::future::poll_fn(move |cx| {
        let below = COMPUTING.with(|c| {
            let mut computing = c.borrow_mut();
            let below = computing.len();
            computing.extend_from_slice(&keys);
            below
        });
        let _truncate = Truncate(below);
        body.as_mut().poll(cx)
    })
    .await
}

/// Whether `key` is being computed by a caller further up this poll: waiting for it would wait
/// for ourselves.
pub(crate) fn is_computing(key: u128) -> bool {
    COMPUTING.with(|c| c.borrow().contains(&key))
}
