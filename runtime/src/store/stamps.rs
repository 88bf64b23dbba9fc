//! An entry's tag stamps: the first few in the entry itself (every entry has two or three: its
//! function's, the global epoch, the shared epoch for shared functions), the rest in a slice
//! beside it. A hit checks them all: kept inline, they cost no pointer chase to another
//! allocation (at 100 k entries and more, a likely cache miss).

use crate::tags::Stamp;

/// Stamps held in the entry itself.
const INLINE: usize = 3;

pub(crate) struct Stamps {
    inline: [Option<Stamp>; INLINE],
    /// Those past the first [`INLINE`]: empty (no allocation) for most entries.
    more: Box<[Stamp]>,
}

impl Stamps {
    pub(crate) fn new(stamps: Vec<Stamp>) -> Stamps {
        let mut all = stamps.into_iter();
        let inline = std::array::from_fn(|_| all.next());
        Stamps {
            inline,
            more: all.collect(),
        }
    }

    /// Whether no tag of the entry moved since its stamps were taken.
    #[inline]
    pub(crate) fn all_current(&self) -> bool {
        self.inline.iter().flatten().all(Stamp::is_current)
            && self.more.iter().all(Stamp::is_current)
    }

    /// The bytes the stamps hold beyond the entry's own fields.
    pub(crate) fn spilled_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::TagRegistry;

    #[test]
    fn every_stamp_is_checked_inline_or_spilled() {
        let tags = TagRegistry::default();
        let names = ["a", "b", "c", "d", "e"];
        let stamps = Stamps::new(names.iter().map(|n| tags.intern(n).stamp()).collect());
        assert_eq!(stamps.spilled_bytes(), 2 * std::mem::size_of::<Stamp>());
        assert!(stamps.all_current());
        for name in names {
            let fresh = Stamps::new(names.iter().map(|n| tags.intern(n).stamp()).collect());
            tags.invalidate(name);
            assert!(!fresh.all_current(), "a move of {name} is seen");
        }
        assert!(Stamps::new(Vec::new()).all_current());
    }
}
