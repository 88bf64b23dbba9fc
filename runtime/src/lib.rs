//! Runtime of `cached-query` (placeholder while the core is written).
#![forbid(unsafe_code)]
#[doc(hidden)]
pub mod private {}
