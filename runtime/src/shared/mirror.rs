//! The tags' generations this instance last read from Redis, so that a hit reads only its value:
//! a value whose stored generations equal the mirror's is current, with no counter read.
//!
//! Kept current by the invalidation broadcast: a message forgets its tags before it is
//! acknowledged, so once `invalidate_tag` returns `Ok` no instance's mirror holds the old
//! generation. Used only while the instance is subscribed (messages sent while it is not are
//! lost), and emptied whenever the subscription starts or drops. A read that learns
//! generations learns them only if no message (and no subscription change) arrived since it
//! started: a counter read before a bump, answered after that bump's message was applied, would
//! otherwise put the old generation back.

use crate::fast_map::FastMap;
use crate::tier::Generations;
use std::sync::Arc;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Tags remembered at most: templated tags (`user:{id}`) are many. Past it the mirror starts
/// over (a read it cannot answer reads the counters, as without it).
const MAX_TAGS: usize = 65_536;

#[derive(Default)]
pub(super) struct Mirror {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    generations: FastMap<Arc<str>, Vec<u8>>,
    /// Moved by every forgetting: what a read started under no longer may be learned.
    sequence: u64,
}

/// Where a read stood when it started (see [`Mirror::learn`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Since(u64);

impl Mirror {
    /// Every Redis hit reads it; only a read that finds new generations, and an invalidation,
    /// write it: a read lock, which concurrent hits take without waiting for one another.
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Nothing in here panics half-way; a poisoned lock still holds a whole map.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The generations of `tags`, comma-separated in their order (as a value stores them), if
    /// every one is known; and where the read stands, to learn what it reads if not.
    pub(super) fn joined(&self, tags: &[&str]) -> (Option<Generations>, Since) {
        let inner = self.read();
        let since = Since(inner.sequence);
        let mut joined = Generations::default();
        for (i, tag) in tags.iter().enumerate() {
            let Some(generation) = inner.generations.get(*tag) else {
                return (None, since);
            };
            if i > 0 {
                joined.extend(b",");
            }
            joined.extend(generation);
        }
        (Some(joined), since)
    }

    /// Remembers the generations a read found for `tags` (same order), unless something was
    /// forgotten since the read started: then what it read may be older than a message already
    /// applied, and is dropped.
    pub(super) fn learn(&self, since: Since, tags: &[&str], generations: &[&[u8]]) {
        let mut inner = self.write();
        if inner.sequence != since.0 || tags.len() != generations.len() {
            return;
        }
        if inner.generations.len() + tags.len() > MAX_TAGS {
            inner.generations.clear();
        }
        for (tag, generation) in tags.iter().zip(generations) {
            inner
                .generations
                .insert(Arc::from(*tag), generation.to_vec());
        }
    }

    /// An invalidation of `tags` (received, or sent by this instance): their generations are
    /// no longer known.
    pub(super) fn forget<T: AsRef<str>>(&self, tags: &[T]) {
        let mut inner = self.write();
        inner.sequence += 1;
        for tag in tags {
            inner.generations.remove(tag.as_ref());
        }
    }

    /// The subscription started or dropped: messages may have been missed, nothing is known.
    pub(super) fn clear(&self) {
        let mut inner = self.write();
        inner.sequence += 1;
        inner.generations.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_are_joined_in_the_tags_order_once_all_are_known() {
        let mirror = Mirror::default();
        let both = ["f", "e"];
        let (none, since) = mirror.joined(&both);
        assert_eq!(none, None);
        mirror.learn(since, &both, &[b"7", b"12"]);
        assert_eq!(mirror.joined(&both).0.as_deref(), Some(&b"7,12"[..]));
        assert_eq!(mirror.joined(&["e"]).0.as_deref(), Some(&b"12"[..]));
        assert_eq!(mirror.joined(&["e", "x"]).0, None, "x is unknown");
        assert_eq!(mirror.joined(&[]).0.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn a_message_forgets_its_tags_and_what_reads_started_before_it_found() {
        let mirror = Mirror::default();
        let both = ["f", "e"];
        let (_, before) = mirror.joined(&both);
        mirror.learn(before, &both, &[b"1", b"2"]);
        let (_, read_started) = mirror.joined(&["g"]);
        mirror.forget(&["e"]);
        assert_eq!(mirror.joined(&both).0, None, "e forgotten");
        assert_eq!(mirror.joined(&["f"]).0.as_deref(), Some(&b"1"[..]));
        // The read sent its counter reads before the message's bump, and is answered after it.
        mirror.learn(read_started, &["e"], &[b"2"]);
        assert_eq!(
            mirror.joined(&both).0,
            None,
            "an old generation is not learned back"
        );
        let (_, after) = mirror.joined(&both);
        mirror.learn(after, &["e"], &[b"3"]);
        assert_eq!(mirror.joined(&both).0.as_deref(), Some(&b"1,3"[..]));
    }

    #[test]
    fn a_subscription_change_empties_it_and_refuses_reads_started_before() {
        let mirror = Mirror::default();
        let one = ["f"];
        let (_, since) = mirror.joined(&one);
        mirror.learn(since, &one, &[b"1"]);
        let (_, read_started) = mirror.joined(&one);
        mirror.clear();
        assert_eq!(mirror.joined(&one).0, None);
        mirror.learn(read_started, &one, &[b"1"]);
        assert_eq!(mirror.joined(&one).0, None);
    }

    #[test]
    fn it_starts_over_when_full() {
        let mirror = Mirror::default();
        for i in 0..MAX_TAGS + 10 {
            let name = format!("user:{i}");
            let tag = [name.as_str()];
            let (_, since) = mirror.joined(&tag);
            mirror.learn(since, &tag, &[b"1"]);
        }
        let inner = mirror.read();
        assert!(inner.generations.len() <= MAX_TAGS);
        assert!(
            inner
                .generations
                .contains_key(&*format!("user:{}", MAX_TAGS + 9))
        );
    }

    #[test]
    fn a_reply_of_another_length_is_not_learned() {
        let mirror = Mirror::default();
        let both = ["f", "e"];
        let (_, since) = mirror.joined(&both);
        mirror.learn(since, &both, &[b"1"]);
        assert_eq!(mirror.joined(&["f"]).0, None);
    }
}
