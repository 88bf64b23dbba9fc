//! Behaviour of `#[cached_query]` functions as users see them: one test binary, one runtime with
#![allow(missing_docs, unreachable_pub)] // a test crate: nothing here is public API
//! the default configuration. Each test uses its own functions, keys and tags, so tests running
//! in parallel do not see each other's entries.

mod basics;
mod batch;
mod batch_merge;
mod cached_errors;
mod conditions;
mod durations;
mod generics;
mod instances;
mod invalidate_attribute;
mod keys;
mod manual;
mod manual_extras;
mod methods;
mod modes;
mod put_attribute;
mod result_tags;
mod scheduling;
mod single_flight;
mod stats;
mod tags;
mod warming;

use std::sync::atomic::{AtomicU32, Ordering};

/// Counts how many times a function body ran.
#[derive(Default)]
pub struct Runs(AtomicU32);

impl Runs {
    pub const fn new() -> Self {
        Runs(AtomicU32::new(0))
    }
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }
}

#[path = "../support/mod.rs"]
mod support;

pub use support::{counts, until};
