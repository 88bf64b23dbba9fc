//! The generations an entry is stored under, read when its computation started: its origin's
//! implicit tags as one sum (see [`Origin`]), and a stamp for each of its own tags. An entry
//! keeps the sum inline, and its own tags' stamps beside it (most entries have none): a hit
//! reads the sum's cells through the origin, which every entry of the function shares and a
//! busy function keeps in cache.

use super::origin::Origin;
use crate::tags::Stamp;

#[derive(Clone)]
pub(crate) struct Stamps {
    pub(crate) origin: &'static Origin,
    /// [`Origin::implicit_generation`] when they were taken.
    pub(crate) implicit_generation: u64,
    /// The stamps of the entry's own tags (written, templated, or named by its result).
    pub(crate) tags: OwnStamps,
}

/// The stamps of an entry's own tags: the first inline (most tagged functions declare one),
/// so that neither a computation's snapshot nor the entry it stores allocates for it.
pub(crate) type OwnStamps = smallvec::SmallVec<[Stamp; 1]>;

impl Stamps {
    /// The generations now: the origin's sum, and a stamp for each of `tags`.
    pub(crate) fn take(origin: &'static Origin, tags: OwnStamps) -> Stamps {
        Stamps {
            origin,
            implicit_generation: origin.implicit_generation(),
            tags,
        }
    }

    /// These stamps, leaving no tags in their place (what is left is spent: an entry
    /// stored under it would not see its tags move).
    pub(crate) fn take_out(&mut self) -> Stamps {
        Stamps {
            origin: self.origin,
            implicit_generation: self.implicit_generation,
            tags: std::mem::take(&mut self.tags),
        }
    }

    /// Whether nothing moved since they were taken.
    #[cfg(test)]
    pub(crate) fn all_current(&self) -> bool {
        let implicit = ImplicitStamp {
            origin: self.origin,
            generation: self.implicit_generation,
        };
        all_current(implicit, Some(&self.tags))
    }
}

/// An entry's implicit tags' stamp: its origin, and the origin's
/// [`implicit_generation`](Origin::implicit_generation) when its computation started. Checked
/// apart from the entry's own stamps on the hit path, which copies it out of the entry and
/// compares it after the engine's lock is released (it needs only the origin, which is
/// `'static`).
#[derive(Clone, Copy)]
pub(crate) struct ImplicitStamp {
    pub(crate) origin: &'static Origin,
    pub(crate) generation: u64,
}

impl ImplicitStamp {
    /// Whether none of the origin's implicit tags moved since it was taken.
    #[inline(always)]
    pub(crate) fn is_current(self) -> bool {
        self.origin.implicit_generation() == self.generation
    }
}

/// Whether none of an entry's own tags (`None`: it has none) moved since their stamps were
/// taken.
#[inline(always)]
pub(crate) fn own_current(own: Option<&[Stamp]>) -> bool {
    own.is_none_or(|own| own.iter().all(Stamp::is_current))
}

/// Whether none of an entry's tags moved since its stamps were taken: its origin's implicit
/// tags (`implicit`) and its own (`own`; `None` when it has none). The one freshness check by
/// tags, whether the stamps are still a [`Stamps`] or held by an entry (whose hit path makes
/// its two halves apart).
#[inline(always)]
pub(crate) fn all_current(implicit: ImplicitStamp, own: Option<&[Stamp]>) -> bool {
    implicit.is_current() && own_current(own)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::TagRegistry;

    #[test]
    fn every_implicit_and_own_tag_is_checked() {
        let tags = TagRegistry::default();
        let origin = Origin::for_test(vec![tags.intern("fn"), tags.intern("epoch")]);
        let own = ["a", "b", "c"];
        let take = || Stamps::take(origin, own.iter().map(|n| tags.intern(n).stamp()).collect());
        assert!(take().all_current());
        for name in own.iter().chain(&["fn", "epoch"]) {
            let stamps = take();
            tags.invalidate(name);
            assert!(!stamps.all_current(), "a move of {name} is seen");
        }
    }
}
