//! The future generated code awaits first: the lookup, run when it is polled, inside the
//! caller's tokio budget. It is small and holds no engine state across polls, so the caller's
//! own future stays small on the hit path (it is moved on every call).

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
    Entering {
        state: State::Lookup {
            site,
            key,
            codec,
            access,
        },
    }
}

/// The lookup of a cached call, as a future (see [`enter`]).
#[must_use = "a lookup does nothing until awaited"]
pub struct Entering<R> {
    state: State<R>,
}

enum State<R> {
    Lookup {
        site: &'static Site,
        key: Key,
        codec: Codec<R>,
        access: Access,
    },
    /// `forget(call)`: removing the entry. The call never produces a value: the calling mode's
    /// wrapper ends it once the removal is done.
    Forget(Forgetting),
    Done,
}

impl<R> Future for Entering<R> {
    type Output = Enter<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Enter<R>> {
        let this = self.get_mut();
        if let State::Forget(removal) = &mut this.state {
            ready!(removal.as_mut().poll(cx));
            this.state = State::Done;
            return Poll::Pending;
        }
        // A hit never waits, so a task that only hits would never yield to the scheduler:
        // each hit spends one unit of the task's tokio budget, and an exhausted budget yields
        // here (outside a tokio runtime there is no budget, and this always proceeds).
        let budget = ready!(tokio::task::coop::poll_proceed(cx));
        let State::Lookup {
            site,
            key,
            codec,
            access,
        } = std::mem::replace(&mut this.state, State::Done)
        else {
            // Polled again after it answered, or after a `forget` ended: nothing to do.
            return Poll::Pending;
        };
        match look_up(site, &key, codec, access) {
            Looked::Now(enter) => {
                if matches!(enter, Enter::Hit(_)) {
                    budget.made_progress();
                }
                Poll::Ready(enter)
            }
            Looked::Forget(removal) => {
                this.state = State::Forget(removal);
                Pin::new(this).poll(cx)
            }
        }
    }
}
