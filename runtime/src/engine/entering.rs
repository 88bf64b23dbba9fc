//! The future generated code awaits first. The lookup runs when the call is made (it never
//! waits), so the future holds only its answer: small, as the caller's own future stays (it is
//! moved on every call). Polling it spends the caller's tokio budget on a hit.

use super::lookup::{Access, Forgetting, Looked, look_up};
use super::miss::Enter;
use crate::key::Key;
use crate::site::Site;
use crate::value::Codec;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// Looks `key` up: a hit, or what the caller needs to compute the value.
pub fn enter<R>(site: &'static Site, key: Key, codec: Codec<R>) -> Entering<R> {
    enter_as(site, key, codec, Access::Call)
}

/// [`enter`], for the manual API, which says what it wants instead of relying on calling modes.
pub(crate) fn enter_as<R>(
    site: &'static Site,
    key: Key,
    codec: Codec<R>,
    access: Access,
) -> Entering<R> {
    let state = match look_up(site, &key, codec, access) {
        Looked::Now(answer) => State::Answer(answer),
        Looked::Forget(removal) => State::Forget(removal),
    };
    Entering { state }
}

/// The lookup of a cached call, as a future (see [`enter`]).
#[must_use = "a lookup does nothing until awaited"]
pub struct Entering<R> {
    state: State<R>,
}

// The answer is only ever moved out, never polled in place: pinning the future does not pin it.
impl<R> Unpin for Entering<R> {}

enum State<R> {
    Answer(Enter<R>),
    /// `forget(call)`: removing the entry. The call never produces a value: the calling mode's
    /// wrapper ends it once the removal is done.
    Forget(Forgetting),
    Done,
}

impl<R> Future for Entering<R> {
    type Output = Enter<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Enter<R>> {
        let this = self.get_mut();
        match &mut this.state {
            State::Answer(Enter::Hit(_)) => {
                // A hit never waits, so a task that only hits would never yield to the
                // scheduler: each hit spends one unit of the task's tokio budget, and an
                // exhausted budget yields here, the answer kept for the next poll (outside a
                // tokio runtime there is no budget, and this always proceeds).
                ready!(tokio::task::coop::poll_proceed(cx)).made_progress();
            }
            State::Answer(Enter::Miss(_)) => {}
            State::Forget(removal) => {
                ready!(removal.as_mut().poll(cx));
                this.state = State::Done;
                return Poll::Pending;
            }
            // Polled after it answered, or after a `forget` ended: nothing more to say.
            State::Done => return Poll::Pending,
        }
        match std::mem::replace(&mut this.state, State::Done) {
            State::Answer(answer) => Poll::Ready(answer),
            _ => Poll::Pending,
        }
    }
}
