//! Autoref specialisation: waiters of a computation get a clone of an uncached result (`Err`,
//! `None`) when the return type is `Clone + Send + 'static`, and run the function themselves
//! otherwise. Generated code probes with `(&&ShareProbe::<R>::new()).probe()`.

use std::any::Any;
use std::marker::PhantomData;

/// Clones results that were not cached (`Err`, `None`) for the waiters of a computation.
pub struct Sharer<R> {
    pub(crate) pack: fn(&R) -> Box<dyn Any + Send>,
    pub(crate) unpack: fn(&(dyn Any + Send)) -> Option<R>,
}

impl<R> Clone for Sharer<R> {
    fn clone(&self) -> Self {
        Sharer {
            pack: self.pack,
            unpack: self.unpack,
        }
    }
}

/// Autoref specialisation: `(&&ShareProbe::<R>::new()).probe()` is a [`Sharer`] when `R` is
/// `Clone + Send + 'static`, `None` otherwise (waiters then run the function themselves).
pub struct ShareProbe<R>(PhantomData<fn() -> R>);

impl<R> ShareProbe<R> {
    /// The probe.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        ShareProbe(PhantomData)
    }
}

/// Chosen when `R: Clone + Send + 'static`.
pub trait ShareByClone<R> {
    /// A sharer.
    fn probe(self) -> Option<Sharer<R>>;
}

impl<R: Clone + Send + 'static> ShareByClone<R> for &&ShareProbe<R> {
    fn probe(self) -> Option<Sharer<R>> {
        Some(Sharer {
            pack: |result| Box::new(result.clone()),
            unpack: |shared| shared.downcast_ref::<R>().cloned(),
        })
    }
}

/// The fallback: results are not shared.
pub trait ShareNothing<R> {
    /// No sharer.
    fn probe(self) -> Option<Sharer<R>>;
}

impl<R> ShareNothing<R> for &ShareProbe<R> {
    fn probe(self) -> Option<Sharer<R>> {
        None
    }
}
