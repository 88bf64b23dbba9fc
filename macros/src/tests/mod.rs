//! Unit tests; panicking is how tests fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod parse;
mod snapshots;
