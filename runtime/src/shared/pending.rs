//! Invalidations Redis has not confirmed yet, kept in the order they were made until a replay
//! round applies them. Every invalidation goes through this queue (queued before its caller
//! awaits anything, so a cancelled caller cannot lose it); rounds run one at a time on the
//! tier's runtime (`invalidation.rs`).
//!
//! Replaying is idempotent: a round bumps each tag once more, which can only invalidate more.
//! The queue is bounded: beyond [`MAX_PENDING_TAGS`] it collapses into one invalidation of the
//! epoch tag, which every shared value carries.

use crate::tags::EPOCH_TAG;
use crate::tier::TierError;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use tokio::sync::oneshot;

/// Tags kept at most; beyond, the queue collapses into one invalidation of every shared value.
pub(super) const MAX_PENDING_TAGS: usize = 10_000;
/// Tags per round (one script, one message).
const ROUND_TAGS: usize = 1_000;

/// Where the caller of an invalidation learns its outcome.
pub(super) type Reply = oneshot::Sender<Result<(), TierError>>;

struct Item {
    tags: Vec<String>,
    /// The callers waiting for this invalidation (several once collapsed; none once answered).
    replies: Vec<Reply>,
    /// A round failed to apply it: its eventual success is a replay.
    failed: bool,
}

#[derive(Default)]
struct Queue {
    items: VecDeque<Item>,
    tags: usize,
    /// Bumped when the queue collapses: a round taken before then no longer matches its front.
    collapses: u64,
}

/// The queue of invalidations not yet applied to Redis.
#[derive(Default)]
pub(super) struct Pending {
    queue: Mutex<Queue>,
    /// Items queued, readable without the lock (every Redis operation checks it).
    len: AtomicUsize,
}

/// The oldest pending invalidations, sent to Redis as one.
pub(super) struct Round {
    /// Their tags, each once, in the order they were queued.
    pub(super) tags: Vec<String>,
    items: usize,
    collapses: u64,
}

/// What a round's end tells the tier.
#[derive(Default)]
pub(super) struct Settled {
    /// The callers to answer.
    pub(super) replies: Vec<Reply>,
    /// Invalidations in the round.
    pub(super) items: u64,
    /// Applied ones that had failed before (replays), or failed ones failing for the first time.
    pub(super) changed: u64,
}

impl Pending {
    pub(super) fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }

    /// Invalidations waiting.
    pub(super) fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an invalidation of `tags`, answered through `reply`. `true` if the queue was full
    /// and collapsed into an invalidation of everything shared.
    pub(super) fn push(&self, tags: Vec<String>, reply: Reply) -> bool {
        let mut queue = self.lock();
        queue.tags += tags.len();
        queue.items.push_back(Item {
            tags,
            replies: vec![reply],
            failed: false,
        });
        let collapsed = queue.tags > MAX_PENDING_TAGS;
        if collapsed {
            let items: Vec<Item> = queue.items.drain(..).collect();
            queue.items.push_back(Item {
                tags: vec![EPOCH_TAG.to_string()],
                failed: items.iter().any(|item| item.failed),
                replies: items.into_iter().flat_map(|item| item.replies).collect(),
            });
            queue.tags = 1;
            queue.collapses += 1;
        }
        self.len.store(queue.items.len(), Ordering::Release);
        collapsed
    }

    /// The next round: the oldest invalidations, up to about [`ROUND_TAGS`] tags (at least one
    /// invalidation). `None` when nothing is pending.
    pub(super) fn next_round(&self) -> Option<Round> {
        let queue = self.lock();
        let mut seen = HashSet::new();
        let mut round = Round {
            tags: Vec::new(),
            items: 0,
            collapses: queue.collapses,
        };
        for item in &queue.items {
            if round.items > 0 && round.tags.len() + item.tags.len() > ROUND_TAGS {
                break;
            }
            round.items += 1;
            for tag in &item.tags {
                if seen.insert(tag.as_str()) {
                    round.tags.push(tag.clone());
                }
            }
        }
        (round.items > 0).then_some(round)
    }

    /// Redis applied `round`: its invalidations leave the queue.
    pub(super) fn applied(&self, round: &Round) -> Settled {
        let mut queue = self.lock();
        if queue.collapses != round.collapses {
            // Collapsed meanwhile: the epoch invalidation now at the front covers this round's
            // tags and answers its callers.
            return Settled::default();
        }
        let mut settled = Settled::default();
        for item in queue.items.drain(..round.items) {
            settled.items += 1;
            settled.changed += u64::from(item.failed);
            settled.replies.extend(item.replies);
        }
        queue.tags = queue.items.iter().map(|item| item.tags.len()).sum();
        self.len.store(queue.items.len(), Ordering::Release);
        settled
    }

    /// Redis did not apply `round`: its invalidations stay queued; their callers are answered
    /// now (with the error) and not again.
    pub(super) fn failed(&self, round: &Round) -> Settled {
        let mut queue = self.lock();
        if queue.collapses != round.collapses {
            return Settled::default();
        }
        let mut settled = Settled::default();
        for item in queue.items.iter_mut().take(round.items) {
            settled.items += 1;
            settled.changed += u64::from(!item.failed);
            item.failed = true;
            settled.replies.append(&mut item.replies);
        }
        settled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(pending: &Pending, tags: &[&str]) -> oneshot::Receiver<Result<(), TierError>> {
        let (reply, answer) = oneshot::channel();
        pending.push(tags.iter().map(|t| (*t).to_string()).collect(), reply);
        answer
    }

    #[test]
    fn rounds_take_the_oldest_first_each_tag_once() {
        let pending = Pending::default();
        let _a = push(&pending, &["users", "user:1"]);
        let _b = push(&pending, &["users", "user:2"]);
        let round = pending.next_round().expect("pending");
        assert_eq!(round.tags, ["users", "user:1", "user:2"]);
        assert_eq!(pending.len(), 2);
        let settled = pending.applied(&round);
        assert_eq!(
            (settled.items, settled.changed, settled.replies.len()),
            (2, 0, 2)
        );
        assert!(pending.is_empty());
        assert!(pending.next_round().is_none());
    }

    #[test]
    fn a_failed_round_stays_queued_and_its_success_counts_as_a_replay() {
        let pending = Pending::default();
        let mut answer = push(&pending, &["t"]);
        let round = pending.next_round().expect("pending");
        let failed = pending.failed(&round);
        assert_eq!(
            (failed.items, failed.changed),
            (1, 1),
            "failing for the first time"
        );
        for reply in failed.replies {
            let _ = reply.send(Err(TierError::Unavailable));
        }
        assert!(matches!(answer.try_recv(), Ok(Err(TierError::Unavailable))));
        let again = pending.next_round().expect("still pending");
        assert_eq!(pending.failed(&again).changed, 0, "counted once");
        let _later = push(&pending, &["u"]);
        let round = pending.next_round().expect("pending");
        assert_eq!(round.tags, ["t", "u"], "in the order they were made");
        let settled = pending.applied(&round);
        assert_eq!((settled.items, settled.changed), (2, 1), "one replay");
        assert_eq!(
            settled.replies.len(),
            1,
            "the first caller was answered already"
        );
    }

    #[test]
    fn a_full_queue_collapses_into_one_invalidation_of_everything() {
        let pending = Pending::default();
        let round_before = {
            let _first = push(&pending, &["early"]);
            pending.next_round().expect("pending")
        };
        let mut answers = Vec::new();
        for i in 0..MAX_PENDING_TAGS {
            answers.push(push(&pending, &[&format!("user:{i}")]));
        }
        assert_eq!(pending.len(), 1);
        assert!(
            pending.applied(&round_before).replies.is_empty(),
            "a round taken before the collapse applies nothing"
        );
        let round = pending.next_round().expect("pending");
        assert_eq!(round.tags, [EPOCH_TAG]);
        let settled = pending.applied(&round);
        assert_eq!(
            settled.replies.len(),
            MAX_PENDING_TAGS + 1,
            "every caller answered"
        );
        assert!(pending.is_empty());
    }

    #[test]
    fn a_round_holds_about_round_tags_but_never_nothing() {
        let pending = Pending::default();
        let many: Vec<String> = (0..ROUND_TAGS + 5).map(|i| format!("t{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let _big = push(&pending, &many);
        let _small = push(&pending, &["x"]);
        let round = pending.next_round().expect("pending");
        assert_eq!(
            round.tags.len(),
            ROUND_TAGS + 5,
            "one oversized invalidation alone"
        );
        pending.applied(&round);
        assert_eq!(pending.next_round().expect("pending").tags, ["x"]);
    }
}
