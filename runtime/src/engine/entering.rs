//! The first steps of a cached call: [`cooperate`] (the task's tokio budget) and [`enter`] (the
//! lookup, all of it synchronous). Generated code awaits the first, then matches the second's
//! answer: a hit returns without another future being built, moved or polled.

use super::lookup::{Access, look_up};
use super::miss::Enter;
use crate::key::Key;
use crate::site::Site;
use crate::value::Codec;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// Looks `key` up: a hit, or what the caller needs to compute the value (or, in a `forget`
/// calling mode, the removal to await). Always inlined (as the lookup's hot path is): left to
/// the compiler, a crate with many cached functions called it out of line, and its answer was
/// moved through memory (measured: 90 ns a hit in the benchmarks' crate, against 50 in a crate
/// with one cached function).
#[inline(always)]
pub fn enter<R>(site: &'static Site, key: Key, codec: Codec<R>) -> Enter<R> {
    enter_as(site, key, codec, Access::Call)
}

/// [`enter`], for the manual API, which says what it wants instead of relying on calling modes.
#[inline(always)]
pub(crate) fn enter_as<R>(
    site: &'static Site,
    key: Key,
    codec: Codec<R>,
    access: Access,
) -> Enter<R> {
    look_up(site, &key, codec, access)
}

/// Cached calls that spend one unit of the task's tokio budget. A hit never waits, so a task
/// that only hits would never yield to the scheduler: calls spend the budget, and an exhausted
/// budget yields. Tokio sizes its budget (128 units) for operations such as a socket read; a
/// hit costs a small fraction of one, and asking tokio for the budget costs half a hit. Charged
/// per 16 calls, a task that only hits still yields, after 2,048 of them (a few hundred
/// microseconds).
const CALLS_PER_BUDGET_UNIT: u8 = 16;

thread_local! {
    /// Calls on this thread until the next one spends a unit of its task's budget.
    static CALLS_UNTIL_CHARGED: Cell<u8> = const { Cell::new(0) };
}

/// Spends the task's tokio budget for one cached call (a unit per 16 calls), yielding once
/// when it is exhausted. Outside a tokio runtime there is no budget and it never waits.
#[inline]
pub fn cooperate() -> Cooperate {
    Cooperate
}

/// The future of [`cooperate`].
#[must_use = "the budget is spent when awaited"]
pub struct Cooperate;

impl Future for Cooperate {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if is_charged() {
            // Exhausted: tokio wakes the task, and the next poll is not charged again.
            ready!(tokio::task::coop::poll_proceed(cx)).made_progress();
        }
        Poll::Ready(())
    }
}

/// Whether this call spends a unit of the task's budget.
#[inline]
fn is_charged() -> bool {
    CALLS_UNTIL_CHARGED.with(|left| match left.get() {
        0 => {
            left.set(CALLS_PER_BUDGET_UNIT - 1);
            true
        }
        n => {
            left.set(n - 1);
            false
        }
    })
}
