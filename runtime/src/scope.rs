//! Calling modes scoped to one future: `forget`, `forget_all`, `refresh`, `bypass`.
//!
//! A mode lives in a thread-local that the scope's future installs around each poll of the
//! future it wraps (and restores afterwards, even on panic), so it follows the call wherever the
//! executor polls it and never leaks to other tasks. The generated code reads it at the top of
//! each cached call. `refresh`, `forget` and `forget_all` are consumed by the first cached call
//! they meet, so cached calls made *inside* that call's body behave normally; `bypass` holds for
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
    /// A `forget`/`forget_all` did its work: `true` if an entry was removed.
    Done(bool),
}

thread_local! {
    static MODE: Cell<Mode> = const { Cell::new(Mode::Normal) };
    /// Keys whose computation is being polled on this thread, innermost last.
    static COMPUTING: RefCell<Vec<u128>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn current() -> Mode {
    MODE.with(Cell::get)
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
async fn one_shot<F: Future>(mode: Mode, future: F) -> Result<F::Output, bool> {
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
async fn scoped<F: Future>(mode: Mode, future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut mode = mode;
    std::future::poll_fn(move |cx| poll_in(&mut mode, future.as_mut(), cx)).await
}

/// Removes the cached entry of one call, without running it.
///
/// Pass the call itself: the compiler checks its arguments, and it works the same for free
/// functions and methods. The function's body does not run; `forget` returns `true` if an
/// entry was removed. A computation of the same key running at that moment is not stored.
/// Pass a single cached call: only the first cached call the future makes is forgotten.
///
/// ```
/// # async fn get_user(id: u64) -> Option<String> { Some(format!("user {id}")) }
/// # async fn demo() {
/// // With `#[cached_query] async fn get_user(id: u64) -> Option<String>`:
/// let removed: bool = cached_query_runtime::forget(get_user(42)).await;
/// # let _ = removed;
/// # }
/// ```
pub async fn forget<F: Future>(call: F) -> bool {
    match one_shot(Mode::Forget, call).await {
        Ok(_) => false,
        Err(removed) => removed,
    }
}

/// Removes every cached entry of the function that `call` calls, without running it.
///
/// The arguments are only there to name the function (and, for methods, the type): their
/// values do not matter. O(1): it bumps the function's implicit tag.
///
/// ```
/// # async fn get_user(id: u64) -> Option<String> { Some(format!("user {id}")) }
/// # async fn demo() {
/// cached_query_runtime::forget_all(get_user(0)).await;
/// # }
/// ```
pub async fn forget_all<F: Future>(call: F) {
    let _ = one_shot(Mode::ForgetAll, call).await;
}

/// Runs `call` even if a cached value exists, and stores its result in place of the old one.
///
/// Only the first cached call inside `call` is refreshed; the calls its body makes use the
/// cache as usual.
///
/// ```
/// # async fn get_user(id: u64) -> Option<String> { Some(format!("user {id}")) }
/// # async fn demo() {
/// let fresh = cached_query_runtime::refresh(get_user(42)).await;
/// # let _ = fresh;
/// # }
/// ```
pub async fn refresh<F: Future>(call: F) -> F::Output {
    scoped(Mode::Refresh, call).await
}

/// Runs `future` with the cache turned off: every cached call inside it runs its function and
/// neither reads nor writes the cache. For tests, and for code paths that must see the source.
///
/// ```
/// # async fn get_user(id: u64) -> Option<String> { Some(format!("user {id}")) }
/// # async fn demo() {
/// let from_the_database = cached_query_runtime::bypass(async {
///     get_user(42).await
/// }).await;
/// # let _ = from_the_database;
/// # }
/// ```
pub async fn bypass<F: Future>(future: F) -> F::Output {
    scoped(Mode::Bypass, future).await
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

/// Whether `key` is being computed by a caller further up this poll: waiting for it would wait
/// for ourselves.
pub(crate) fn is_computing(key: u128) -> bool {
    COMPUTING.with(|c| c.borrow().contains(&key))
}
