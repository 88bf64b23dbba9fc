//! `warm`: runs many calls (typically cached calls, to pre-populate the cache at start-up) with a
//! bound on how many are in progress at once, inside the caller's task.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// How many calls may finish within one poll of [`warm`] before it yields to the executor, so a
/// long run of calls that complete at once (cache hits) does not hold the thread.
const COMPLETIONS_PER_POLL: usize = 64;

/// Runs `calls` with at most `parallelism` of them in progress at once (0 counts as 1), and
/// returns their outputs in the order the calls were given.
///
/// Meant for pre-populating the cache at start-up: pass cached calls, and each one goes through
/// the cache like any other call (a hit if the entry is there, single-flight with identical
/// calls made meanwhile, stored under its usual key). Errors are returned in place, in the
/// output vector, and are not cached. `parallelism` bounds the load put on whatever the calls
/// query.
///
/// The calls are not spawned: they are polled concurrently inside the task that awaits `warm`,
/// so they may borrow local values (a pool, a slice of ids). The iterator is pulled lazily, one
/// call each time a slot is free, so a long iterator never has more than `parallelism` calls
/// created and not finished. A call that panics makes `warm` panic; dropping `warm` drops
/// (cancels) the calls in progress and pulls no more.
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let keys: Vec<(&str, u64)> = [3, 1, 2].map(|id| ("user-name", id)).to_vec();
///
/// // With `#[cached_query]` these would be calls of the cached function: `get_user(&db, id)`.
/// let names: Vec<String> = cached_query_runtime::warm(
///     keys.iter().map(|key| {
///         let ttl = Duration::from_secs(300);
///         cached_query_runtime::remember(key, ttl, &["users"], move || async move {
///             format!("user {}", key.1) // the query
///         })
///     }),
///     2,
/// )
/// .await;
/// assert_eq!(names, ["user 3", "user 1", "user 2"]);
///
/// let cached: Option<String> = cached_query_runtime::get(&("user-name", 1u64)).await;
/// assert_eq!(cached.as_deref(), Some("user 1"));
/// # }
/// ```
pub async fn warm<I>(calls: I, parallelism: usize) -> Vec<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future,
{
    let parallelism = parallelism.max(1);
    let mut calls = calls.into_iter().fuse();
    // Every call pulled so far has a slot here, by its position; a slot is filled when its call
    // finishes. Grown as calls are pulled (never from a size hint or from `parallelism`, which
    // may be huge).
    let mut outputs: Vec<Option<<I::Item as Future>::Output>> = Vec::new();
    // The calls in progress, with their position: at most `parallelism` of them.
    let mut in_flight: Vec<(usize, Pin<Box<I::Item>>)> = Vec::new();

    std::future::poll_fn(|cx| {
        let mut completed = 0;
        loop {
            while in_flight.len() < parallelism {
                let Some(call) = calls.next() else { break };
                in_flight.push((outputs.len(), Box::pin(call)));
                outputs.push(None);
            }
            if in_flight.is_empty() {
                // Nothing in progress after a refill: the iterator is exhausted.
                return Poll::Ready(());
            }
            // Every call in progress shares this task's waker, so on each wake-up we cannot tell
            // which one is ready: poll them all. O(parallelism) per wake-up, which is fine for
            // the small bounds this is meant for.
            let before = completed;
            let mut i = 0;
            while let Some((position, call)) = in_flight.get_mut(i) {
                match call.as_mut().poll(cx) {
                    Poll::Ready(output) => {
                        if let Some(slot) = outputs.get_mut(*position) {
                            *slot = Some(output);
                        }
                        // Order within `in_flight` does not matter: positions travel along.
                        in_flight.swap_remove(i);
                        completed += 1;
                    }
                    Poll::Pending => i += 1,
                }
            }
            if completed == before {
                // Every call in progress registered the waker.
                return Poll::Pending;
            }
            if completed >= COMPLETIONS_PER_POLL {
                // Slots are free but we have run long enough: come back after other tasks.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
    })
    .await;

    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::warm;
    use std::cell::{Cell, RefCell};
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    /// Ready after being polled `polls` times (waking itself each time before that); records
    /// `id` in `finished` when it completes.
    struct After<'a> {
        id: usize,
        polls: usize,
        finished: &'a RefCell<Vec<usize>>,
    }

    impl Future for After<'_> {
        type Output = usize;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            if self.polls <= 1 {
                self.finished.borrow_mut().push(self.id);
                Poll::Ready(self.id)
            } else {
                self.polls -= 1;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }

    /// Polls `future` to completion on this thread with a no-op waker (every future in these
    /// tests wakes itself, so polling again is always right); the number of polls it took.
    fn block_on<F: Future>(future: F) -> (F::Output, usize) {
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        for polls in 1..100_000 {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return (output, polls);
            }
        }
        panic!("never finished");
    }

    #[test]
    fn outputs_are_in_input_order_when_calls_finish_in_reverse() {
        let finished = RefCell::new(Vec::new());
        let n = 10;
        let calls = (0..n).map(|id| After {
            id,
            polls: n - id,
            finished: &finished,
        });
        let (outputs, _) = block_on(warm(calls, n));
        assert_eq!(outputs, (0..n).collect::<Vec<_>>());
        assert_eq!(
            *finished.borrow(),
            (0..n).rev().collect::<Vec<_>>(),
            "the calls did finish in reverse order"
        );
    }

    #[test]
    fn order_holds_with_fewer_slots_than_calls() {
        let finished = RefCell::new(Vec::new());
        let calls = (0..25).map(|id| After {
            id,
            polls: 1 + (25 - id) % 7,
            finished: &finished,
        });
        let (outputs, _) = block_on(warm(calls, 3));
        assert_eq!(outputs, (0..25).collect::<Vec<_>>());
        assert_ne!(
            *finished.borrow(),
            (0..25).collect::<Vec<_>>(),
            "some calls finished out of order"
        );
    }

    #[test]
    fn at_most_parallelism_calls_are_created_and_unfinished() {
        let finished = RefCell::new(Vec::new());
        let pulled = Cell::new(0);
        let calls = (0..20)
            .inspect(|_| pulled.set(pulled.get() + 1))
            .map(|id| After {
                id,
                polls: 3,
                finished: &finished,
            });
        let mut future = std::pin::pin!(warm(calls, 4));
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            let done = future.as_mut().poll(&mut cx).is_ready();
            assert!(pulled.get() <= finished.borrow().len() + 4);
            if done {
                break;
            }
        }
        assert_eq!(pulled.get(), 20);
    }

    #[test]
    fn zero_parallelism_is_one_and_no_calls_is_empty() {
        let finished = RefCell::new(Vec::new());
        let calls = (0..5).map(|id| After {
            id,
            polls: 5 - id,
            finished: &finished,
        });
        let (outputs, _) = block_on(warm(calls, 0));
        assert_eq!(outputs, [0, 1, 2, 3, 4]);
        assert_eq!(*finished.borrow(), [0, 1, 2, 3, 4], "one at a time");

        let (outputs, polls) = block_on(warm(std::iter::empty::<std::future::Ready<u8>>(), 4));
        assert!(outputs.is_empty());
        assert_eq!(polls, 1);
    }

    #[test]
    fn huge_parallelism_allocates_nothing_up_front() {
        let (outputs, _) = block_on(warm((0..3).map(std::future::ready), usize::MAX));
        assert_eq!(outputs, [0, 1, 2]);
    }

    #[test]
    fn a_long_run_of_ready_calls_yields_to_the_executor() {
        let (outputs, polls) = block_on(warm((0..1_000).map(std::future::ready), 8));
        assert_eq!(outputs, (0..1_000).collect::<Vec<_>>());
        assert!(
            polls >= 1_000 / super::COMPLETIONS_PER_POLL,
            "{polls} polls"
        );
    }
}
