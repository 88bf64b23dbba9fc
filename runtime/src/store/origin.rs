//! What every entry of one function in one instance shares, held once instead of in each
//! entry: the function's counters, the cells of the tags all its entries carry (its own tag,
//! the instance's epoch, the shared epoch when its values are shared), and the windows its
//! options open after a deadline. An entry keeps a reference to its origin and one number, the
//! sum of those cells' generations when its computation started: generations only grow, so
//! the sum is unchanged exactly when none of them moved.

use crate::fast_map::FastMap;
use crate::stats::Counters;
use crate::tags::TagCell;
use std::sync::{Arc, PoisonError, RwLock};

pub(crate) struct Origin {
    pub(crate) counters: &'static Counters,
    /// The cells of the tags every entry of the origin carries, held in the origin itself and
    /// always three (a cell nobody can bump stands for an absent one): a hit reads them with no
    /// loop, no branch and no pointer to a slice of them.
    implicit: [Arc<TagCell>; 3],
    /// `stale_if_error`, in whole milliseconds after the deadline (saturating); 0 without it.
    pub(crate) serve_on_error_ms: u32,
    /// `stale_while_revalidate`, in whole milliseconds after the deadline; 0 without it.
    pub(crate) revalidate_ms: u32,
    /// Whether its entries keep when they were stored ([`age_of`](crate::age_of) reads it).
    pub(crate) keeps_age: bool,
}

impl Origin {
    /// The sum of the implicit tags' generations now.
    #[inline]
    pub(crate) fn implicit_generation(&self) -> u64 {
        let [a, b, c] = &self.implicit;
        a.generation()
            .wrapping_add(b.generation())
            .wrapping_add(c.generation())
    }
}

/// What an origin is made of: its function's counters in the instance, which tags every entry
/// carries, its windows, and whether its entries keep their age.
#[derive(Clone, Copy)]
pub(crate) struct OriginSpec {
    pub(crate) counters: &'static Counters,
    pub(crate) implicit: Implicit,
    /// `stale_if_error`, in milliseconds.
    pub(crate) serve_on_error_ms: Option<u64>,
    /// `stale_while_revalidate`, in milliseconds.
    pub(crate) revalidate_ms: Option<u64>,
    pub(crate) keeps_age: bool,
}

/// Which tags every entry of an origin carries.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Implicit {
    /// None: counters, which invalidations do not reset.
    Nothing,
    /// The function's tag (named here) and the instance's epoch.
    Memory(&'static str),
    /// Those and the shared epoch: the function's values go to the shared tier.
    Shared(&'static str),
}

/// What [`Origins`] finds an origin by: its spec, the counters by address (one set per function
/// and instance, so the function's tag need not be compared).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct OriginKey {
    counters: usize,
    /// 0, 1, 2: [`Implicit`]'s variant.
    implicit: u8,
    serve_on_error_ms: u32,
    revalidate_ms: u32,
    keeps_age: bool,
}

impl OriginSpec {
    fn key(&self) -> OriginKey {
        OriginKey {
            counters: std::ptr::from_ref(self.counters) as usize,
            implicit: match self.implicit {
                Implicit::Nothing => 0,
                Implicit::Memory(_) => 1,
                Implicit::Shared(_) => 2,
            },
            serve_on_error_ms: whole_ms(self.serve_on_error_ms),
            revalidate_ms: whole_ms(self.revalidate_ms),
            keeps_age: self.keeps_age,
        }
    }
}

fn whole_ms(ms: Option<u64>) -> u32 {
    ms.map_or(0, |ms| u32::try_from(ms).unwrap_or(u32::MAX))
}

/// One instance's origins, made on first use and kept for the instance's life (leaked: an
/// instance lives until the process ends, and there is one origin per function and shape).
#[derive(Default)]
pub(crate) struct Origins {
    made: RwLock<FastMap<OriginKey, &'static Origin>>,
}

impl Origins {
    /// The origin `spec` describes, made with the cells `cells` gives for its implicit tags (at
    /// most three) the first time it is asked for.
    pub(crate) fn get(
        &self,
        spec: OriginSpec,
        cells: impl FnOnce(Implicit) -> Vec<Arc<TagCell>>,
    ) -> &'static Origin {
        let key = spec.key();
        if let Some(origin) = self
            .made
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return origin;
        }
        self.made
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_insert_with(|| Origin::leaked(spec, cells(spec.implicit)))
    }
}

impl Origin {
    fn leaked(spec: OriginSpec, cells: Vec<Arc<TagCell>>) -> &'static Origin {
        let key = spec.key();
        let mut given = cells.into_iter();
        // A cell of its own, which no tag name reaches: it never moves.
        let mut cell = || given.next().unwrap_or_default();
        Box::leak(Box::new(Origin {
            counters: spec.counters,
            implicit: [cell(), cell(), cell()],
            serve_on_error_ms: key.serve_on_error_ms,
            revalidate_ms: key.revalidate_ms,
            keeps_age: spec.keeps_age,
        }))
    }

    /// An origin of its own (its own counters, no windows) whose entries carry the tags of
    /// `cells`: for tests of what holds entries.
    #[cfg(test)]
    pub(crate) fn for_test(cells: Vec<Arc<TagCell>>) -> &'static Origin {
        let spec = OriginSpec {
            counters: Box::leak(Box::default()),
            implicit: Implicit::Nothing,
            serve_on_error_ms: None,
            revalidate_ms: None,
            keeps_age: false,
        };
        Origin::leaked(spec, cells)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::TagRegistry;

    static COUNTERS: std::sync::LazyLock<Counters> = std::sync::LazyLock::new(Counters::default);

    fn spec(implicit: Implicit, serve_on_error_ms: Option<u64>) -> OriginSpec {
        OriginSpec {
            counters: &COUNTERS,
            implicit,
            serve_on_error_ms,
            revalidate_ms: None,
            keeps_age: false,
        }
    }

    #[test]
    fn the_sum_moves_when_any_implicit_tag_moves() {
        let tags = TagRegistry::default();
        let origin = Origin::for_test(
            ["f", "epoch", "shared"]
                .iter()
                .map(|name| tags.intern(name))
                .collect(),
        );
        for name in ["f", "epoch", "shared"] {
            let before = origin.implicit_generation();
            tags.invalidate(name);
            assert_ne!(
                origin.implicit_generation(),
                before,
                "a move of {name} is seen"
            );
        }
    }

    #[test]
    fn one_origin_per_spec() {
        let origins = Origins::default();
        let first = origins.get(spec(Implicit::Nothing, Some(5)), |_| Vec::new());
        let again = origins.get(spec(Implicit::Nothing, Some(5)), |_| {
            unreachable!("made once")
        });
        assert!(std::ptr::eq(first, again));
        assert_eq!((first.serve_on_error_ms, first.revalidate_ms), (5, 0));
        let other = spec(Implicit::Nothing, None);
        assert!(!std::ptr::eq(first, origins.get(other, |_| Vec::new())));
        assert_eq!(origins.get(other, |_| Vec::new()).implicit_generation(), 0);
    }
}
