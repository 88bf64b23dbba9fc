//! Behaviour of `#[cached_query]` functions as users see them: one test binary, one runtime with
#![allow(missing_docs, unreachable_pub)] // a test crate: nothing here is public API
//! the default configuration. Each test uses its own functions, keys and tags, so tests running
//! in parallel do not see each other's entries.

mod basics;
mod cached_errors;
mod conditions;
mod instances;
mod invalidate_attribute;
mod keys;
mod manual;
mod methods;
mod modes;
mod result_tags;
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

/// The counts of one function, by its path suffix.
pub fn counts(function: &str) -> cached_query::Counts {
    cached_query::stats()
        .function(function)
        .map(|f| f.counts)
        .unwrap_or_default()
}

/// Waits (yielding, never sleeping) until `condition` holds.
pub async fn until(mut condition: impl FnMut() -> bool) {
    for _ in 0..1_000_000 {
        if condition() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition never held");
}
