//! The cached call, in the order it happens: [`entering`] runs the [`lookup`] when polled,
//! which finds a hit or builds a [`Miss`];
//! [`coalesce`] makes one caller per key the leader; [`compute`] runs the body and stores what
//! the function's rules allow, reading and writing the shared tier through [`remote`].
//! [`mode`] holds the calling modes the public `refresh`/`forget`/`bypass` install;
//! [`invalidation`] bumps tags in memory and then in the tier.
//!
//! The engine uses the layers below it (site, key, value, store, tags, flights, tier) and is
//! used by `private` (generated code) and by the public API; it never calls the public API.

mod batch;
mod coalesce;
mod compute;
mod entering;
pub(crate) mod invalidation;
mod lookup;
mod miss;
pub(crate) mod mode;
mod put;
mod remote;
#[cfg(test)]
mod tests;

pub use batch::{BatchEnter, BatchMiss, enter_batch};
pub(crate) use entering::enter_as;
pub use entering::{Cooperate, cooperate, enter};
pub(crate) use lookup::{Access, remove};
pub use miss::{Enter, Miss};
pub use put::{PreparedPut, Storing, prepare_put, store_put};
