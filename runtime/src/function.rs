//! What the runtime knows about one cached function: its identity, key seed, implicit tag and
//! counters. One per call site, created on the first call and kept for the program's life.

use crate::stats::Counters;

pub(crate) struct FunctionState {
    pub(crate) name: Box<str>,
    /// xxh3-128 of name ‖ version: every key of the function starts with it.
    pub(crate) seed: [u8; 16],
    /// The implicit tag every entry of the function carries ([`forget_all`](crate::forget_all)).
    /// It starts with a control character, so no user tag can be the same.
    pub(crate) tag: Box<str>,
    pub(crate) counters: Counters,
    /// Metric handles, registered on the first call.
    #[cfg(feature = "metrics")]
    pub(crate) metrics: std::sync::OnceLock<FunctionMetrics>,
}

/// One function's metric handles, registered on its first call (by `observe`): a call then
/// only increments a handle (no label set built, no allocation). Handles bind to the recorder
/// installed at that moment, so install the recorder before the first cached call.
#[cfg(feature = "metrics")]
pub(crate) struct FunctionMetrics {
    /// `cached_query_calls_total{function, outcome, tier}`, indexed by outcome × tier.
    pub(crate) calls: Vec<metrics::Counter>,
    /// `cached_query_compute_seconds{function}`: the function's own time when it ran.
    pub(crate) compute: metrics::Histogram,
}

impl FunctionState {
    pub(crate) fn new(name: Box<str>, version: u32) -> Self {
        let mut seed_input = Vec::with_capacity(name.len() + 12);
        seed_input.extend_from_slice(&(name.len() as u64).to_le_bytes());
        seed_input.extend_from_slice(name.as_bytes());
        seed_input.extend_from_slice(&version.to_le_bytes());
        Self {
            seed: xxhash_rust::xxh3::xxh3_128(&seed_input).to_le_bytes(),
            tag: format!("\u{1}fn:{name}").into(),
            name,
            counters: Counters::default(),
            #[cfg(feature = "metrics")]
            metrics: std::sync::OnceLock::new(),
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
    fn seeds_differ_by_name_and_version() {
        let a = FunctionState::new("m::f".into(), 0).seed;
        assert_ne!(a, FunctionState::new("m::g".into(), 0).seed);
        assert_ne!(a, FunctionState::new("m::f".into(), 1).seed);
        assert_eq!(a, FunctionState::new("m::f".into(), 0).seed);
    }
}
