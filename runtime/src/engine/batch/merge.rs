//! Merging concurrent calls into one body call (`merge = "2ms"`, `max_batch = 500`).
//!
//! A call that has claimed its items looks for the open window of its group (the function, the
//! instance, and the other key arguments: calls that differ in those compute differently).
//! Without one, it opens one and drives it: it waits until the window's time is up on the
//! cache's clock, or until the window is full, then computes every item in it with its own
//! body. With one, it hands its items (their flights included) to the window and waits for
//! them as any waiter does; its own body never runs, unless the driver goes away (panics, is
//! cancelled, fails with an error it cannot share): its flights are then dropped, and it claims
//! its items again.

use super::claim::Waiting;
use super::{BatchMiss, Claimed, Missing};
use crate::clock;
use crate::engine::miss::Miss;
use crate::flight::Leader;
use crate::windows::{Group, Window, Windows};
use std::any::Any;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

/// A function's merging options, and its items' type erasure (built where their bounds hold).
pub(super) struct Merging<K, V> {
    window: Duration,
    max_batch: usize,
    pack: fn(Claimed<K, V>) -> Box<dyn Any + Send>,
    unpack: Unpack<K, V>,
    copy_item: fn(&K) -> K,
}

impl<K: Clone + Send + 'static, V: 'static> Merging<K, V> {
    pub(super) fn new(window: Duration, max_batch: u32) -> Self {
        Merging {
            window,
            max_batch: usize::try_from(max_batch).unwrap_or(usize::MAX).max(1),
            pack: |claimed| Box::new(claimed),
            unpack: |boxed| {
                boxed
                    .downcast::<Claimed<K, V>>()
                    .ok()
                    .map(|claimed| *claimed)
            },
            copy_item: K::clone,
        }
    }
}

/// A window's item back as the function's own type.
type Unpack<K, V> = fn(Box<dyn Any + Send>) -> Option<Claimed<K, V>>;

/// What merging made of a call's claimed items.
pub(super) enum Merged<K, V> {
    /// Compute these (this call's own, and those of the window it drove).
    Compute(Vec<Claimed<K, V>>),
    /// Handed to another call's window: wait for them.
    Passenger(Vec<Waiting<K, V>>),
}

enum Offer<K, V> {
    Joined(Vec<Waiting<K, V>>),
    Opened(Arc<Window>),
}

impl<R, K, V, C> BatchMiss<R, K, V, C> {
    /// Merges this call's claimed items with those of concurrent calls, when the function
    /// asks for it.
    pub(super) async fn merged(&mut self, claimed: Vec<Claimed<K, V>>) -> Merged<K, V> {
        let runtime = self.runtime;
        let manual = runtime.manual_clock.as_ref();
        let Some(merging) = &self.merge else {
            return Merged::Compute(claimed);
        };
        let mergeable = !claimed.is_empty()
            && claimed.len() < merging.max_batch
            && claimed
                .iter()
                .all(|c| c.leader.as_ref().is_some_and(Leader::leads))
            && clock::alarms_ring(manual);
        if !mergeable {
            return Merged::Compute(claimed);
        }
        let group = (std::ptr::from_ref(self.site) as usize, self.keys.group());
        let window = match offer(&runtime.merges, group, claimed, merging) {
            Offer::Joined(waiting) => return Merged::Passenger(waiting),
            Offer::Opened(window) => window,
        };
        let driving = Driving {
            windows: &runtime.merges,
            group,
            window,
            closed: false,
        };
        let deadline = runtime.now_nanos().saturating_add(nanos(merging.window));
        {
            let mut alarm = pin!(clock::alarm(manual, deadline));
            let mut full = pin!(driving.window.full.notified());
            std::future::poll_fn(|cx| {
                if alarm.as_mut().poll(cx).is_ready() || full.as_mut().poll(cx).is_ready() {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
        }
        let items = driving.close();
        Merged::Compute(items.into_iter().filter_map(merging.unpack).collect())
    }
}

/// Hands `claimed` to the group's open window if they fit, else opens the next window (sending
/// off the open one, full for this call).
fn offer<K, V>(
    windows: &Windows,
    group: Group,
    claimed: Vec<Claimed<K, V>>,
    merging: &Merging<K, V>,
) -> Offer<K, V> {
    let mut open = windows.lock();
    if let Some(window) = open.get(&group) {
        let mut items = window.items();
        if items.len() + claimed.len() <= merging.max_batch {
            let waiting = claimed
                .into_iter()
                .filter_map(|c| {
                    let waiting = passenger(&c, merging.copy_item)?;
                    items.push((merging.pack)(Claimed { own: false, ..c }));
                    Some(waiting)
                })
                .collect();
            if items.len() >= merging.max_batch {
                window.full.notify_one();
            }
            return Offer::Joined(waiting);
        }
        drop(items);
        window.full.notify_one();
        open.remove(&group);
    }
    let window = Window::new(claimed.into_iter().map(merging.pack).collect());
    open.insert(group, Arc::clone(&window));
    Offer::Opened(window)
}

/// What a passenger keeps of an item it hands over: the item, a copy of its miss, its flight.
fn passenger<K, V>(claimed: &Claimed<K, V>, copy_item: fn(&K) -> K) -> Option<Waiting<K, V>> {
    let flight = claimed.leader.as_ref()?.flight();
    Some(Waiting {
        missing: Missing {
            item: copy_item(&claimed.item),
            miss: Box::new(Miss::duplicate(&claimed.miss)),
        },
        flight,
    })
}

/// The driver of a window: closing it takes its items; dropped before (the driver cancelled),
/// it closes it and drops them, which releases their flights to their waiters.
struct Driving<'a> {
    windows: &'a Windows,
    group: Group,
    window: Arc<Window>,
    closed: bool,
}

impl Driving<'_> {
    fn close(mut self) -> Vec<Box<dyn Any + Send>> {
        self.closed = true;
        self.windows.close(self.group, &self.window)
    }
}

impl Drop for Driving<'_> {
    fn drop(&mut self) {
        if !self.closed {
            // Outside the locks: dropping the items drops their flights' leaders.
            drop(self.windows.close(self.group, &self.window));
        }
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
