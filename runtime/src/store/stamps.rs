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
        all_current(self.origin, self.implicit_generation, Some(&self.tags))
    }
}

/// Whether none of an entry's tags moved since its stamps were taken: its origin's implicit
/// tags (their sum against `implicit_generation`) and its own (`own`; `None` when it has
/// none). The one freshness check by tags, whether the stamps are still a [`Stamps`] or held by
/// an entry.
#[inline(always)]
pub(crate) fn all_current(
    origin: &Origin,
    implicit_generation: u64,
    own: Option<&[Stamp]>,
) -> bool {
    origin.implicit_generation() == implicit_generation
        && own.is_none_or(|own| own.iter().all(Stamp::is_current))
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
