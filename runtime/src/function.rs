//! What the runtime knows about one cached function: its identity, key seed, implicit tag and
//! counters. One per call site, created on the first call and kept for the program's life.

use crate::stats::Counters;
use crate::tags::TagCell;
use std::sync::Arc;

pub(crate) struct FunctionState {
    pub(crate) name: Box<str>,
    /// xxh3-128 of namespace ‖ name ‖ version: every key of the function starts with it.
    pub(crate) seed: [u8; 16],
    /// The implicit tag every entry of the function carries ([`forget_all`](crate::forget_all)).
    pub(crate) cell: Arc<TagCell>,
    pub(crate) counters: Counters,
}

impl FunctionState {
    pub(crate) fn new(namespace: &str, name: Box<str>, version: u32) -> Self {
        let mut seed_input = Vec::with_capacity(namespace.len() + name.len() + 8);
        for part in [namespace.as_bytes(), name.as_bytes()] {
            seed_input.extend_from_slice(&(part.len() as u64).to_le_bytes());
            seed_input.extend_from_slice(part);
        }
        seed_input.extend_from_slice(&version.to_le_bytes());
        Self {
            seed: xxhash_rust::xxh3::xxh3_128(&seed_input).to_le_bytes(),
            name,
            cell: Arc::default(),
            counters: Counters::default(),
        }
    }
}

/// The function's path from the `type_name` of a marker fn declared in its body:
/// `app::users::get_user::{{closure}}::__cq_id` → `app::users::get_user`.
pub(crate) fn path_from_marker(marker: &str) -> &str {
    let path = marker.strip_suffix("::__cq_id").unwrap_or(marker);
    path.strip_suffix("::{{closure}}").unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_suffixes_are_stripped() {
        assert_eq!(
            path_from_marker("app::m::User<u8>::get::{{closure}}::__cq_id"),
            "app::m::User<u8>::get"
        );
        assert_eq!(path_from_marker("app::free::__cq_id"), "app::free");
    }

    #[test]
    fn seeds_differ_by_namespace_name_and_version() {
        let a = FunctionState::new("", "m::f".into(), 0).seed;
        assert_ne!(a, FunctionState::new("ns", "m::f".into(), 0).seed);
        assert_ne!(a, FunctionState::new("", "m::g".into(), 0).seed);
        assert_ne!(a, FunctionState::new("", "m::f".into(), 1).seed);
        // Length prefixes: ("ab", "c") and ("a", "bc") are different functions.
        assert_ne!(
            FunctionState::new("ab", "c".into(), 0).seed,
            FunctionState::new("a", "bc".into(), 0).seed
        );
    }
}
