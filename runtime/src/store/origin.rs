//! What every entry of one function in one instance shares, held once instead of in each
//! entry: the function's counters, the cells of the tags all its entries carry (its own tag,
//! the instance's epoch, the shared epoch when its values are shared), and the windows its
//! options open after a deadline. An entry keeps a reference to its origin and one number, the
//! sum of those cells' generations when its computation started: generations only grow, so
//! the sum is unchanged exactly when none of them moved.

use crate::stats::Counters;
use crate::tags::TagCell;
use std::collections::HashMap;
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

/// What an origin is made of besides its tag cells, and the key it is found by in
/// [`Origins`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct OriginSpec {
    /// The address of the function's counters in the instance (one per function and instance).
    counters: usize,
    /// Which tags every entry carries.
    implicit: Implicit,
    serve_on_error_ms: u32,
    revalidate_ms: u32,
    keeps_age: bool,
}

/// Which tags every entry of an origin carries.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Implicit {
    /// None: counters, which invalidations do not reset.
    Nothing,
    /// The function's tag and the instance's epoch.
    Memory,
    /// Those and the shared epoch: the function's values go to the shared tier.
    Shared,
}

impl OriginSpec {
    pub(crate) fn new(
        counters: &'static Counters,
        implicit: Implicit,
        serve_on_error_ms: Option<u64>,
        revalidate_ms: Option<u64>,
        keeps_age: bool,
    ) -> OriginSpec {
        OriginSpec {
            counters: std::ptr::from_ref(counters) as usize,
            implicit,
            serve_on_error_ms: whole_ms(serve_on_error_ms),
            revalidate_ms: whole_ms(revalidate_ms),
            keeps_age,
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
    made: RwLock<HashMap<OriginSpec, &'static Origin>>,
}

impl Origins {
    /// The origin `spec` describes, made with `counters` and the cells `cells` gives (at most
    /// three) the first time it is asked for.
    pub(crate) fn get(
        &self,
        spec: OriginSpec,
        counters: &'static Counters,
        cells: impl FnOnce(Implicit) -> Vec<Arc<TagCell>>,
    ) -> &'static Origin {
        if let Some(origin) = self
            .made
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&spec)
        {
            return origin;
        }
        self.made
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(spec)
            .or_insert_with(|| {
                let mut given = cells(spec.implicit).into_iter();
                // A cell of its own, which no tag name reaches: it never moves.
                let mut cell = || given.next().unwrap_or_default();
                Box::leak(Box::new(Origin {
                    counters,
                    implicit: [cell(), cell(), cell()],
                    serve_on_error_ms: spec.serve_on_error_ms,
                    revalidate_ms: spec.revalidate_ms,
                    keeps_age: spec.keeps_age,
                }))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::TagRegistry;

    static COUNTERS: std::sync::LazyLock<Counters> = std::sync::LazyLock::new(Counters::default);

    #[test]
    fn the_sum_moves_when_any_implicit_tag_moves() {
        let tags = TagRegistry::default();
        let origins = Origins::default();
        let spec = OriginSpec::new(&COUNTERS, Implicit::Shared, None, None, false);
        let origin = origins.get(spec, &COUNTERS, |_| {
            ["f", "epoch", "shared"]
                .iter()
                .map(|name| tags.intern(name))
                .collect()
        });
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
        let spec = OriginSpec::new(&COUNTERS, Implicit::Nothing, Some(5), None, false);
        let first = origins.get(spec, &COUNTERS, |_| Vec::new());
        let again = origins.get(spec, &COUNTERS, |_| unreachable!("made once"));
        assert!(std::ptr::eq(first, again));
        assert_eq!((first.serve_on_error_ms, first.revalidate_ms), (5, 0));
        let other = OriginSpec::new(&COUNTERS, Implicit::Nothing, None, None, false);
        assert!(!std::ptr::eq(
            first,
            origins.get(other, &COUNTERS, |_| Vec::new())
        ));
        assert_eq!(
            origins
                .get(other, &COUNTERS, |_| Vec::new())
                .implicit_generation(),
            0
        );
    }
}
