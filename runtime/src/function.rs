//! What the runtime knows about one cached function: its identity, key seed, implicit tag and
//! counters. One per call site, created on the first call and kept for the program's life.

use crate::stats::Counters;
use std::sync::Arc;

pub(crate) struct FunctionState {
    pub(crate) name: Box<str>,
    /// The function's identity (xxh3-128 of name ‖ version), which keys its keys' hash
    /// (`key_hash::Keying`).
    pub(crate) key_mask: u128,
    /// The implicit tag every entry of the function carries ([`forget_all`](crate::forget_all)).
    /// It starts with a control character, so no user tag can be the same.
    pub(crate) tag: Arc<str>,
    pub(crate) counters: Counters,
    /// `Some` when the function's body is instantiated more than one way (impl or function
    /// generics, a trait default body): each key's hash is then keyed by the digest of the
    /// instantiation's name too (`key_hash::Keying::instance`). Decided on the first call,
    /// from names alone, so every process decides alike; it holds the first instantiation
    /// seen, whose digest is reused.
    pub(crate) instantiation: Option<Instantiation>,
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
    pub(crate) fn new(name: Box<str>, version: u32, instantiation: Option<Instantiation>) -> Self {
        let mut seed_input = Vec::with_capacity(name.len() + 12);
        seed_input.extend_from_slice(&(name.len() as u64).to_le_bytes());
        seed_input.extend_from_slice(name.as_bytes());
        seed_input.extend_from_slice(&version.to_le_bytes());
        let identity = xxhash_rust::xxh3::xxh3_128(&seed_input);
        Self {
            key_mask: identity,
            tag: format!("\u{1}fn:{name}").into(),
            name,
            counters: Counters::default(),
            instantiation,
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

/// One instantiation of a generic body: the `type_name` of the closure declared in it, and
/// that name's digest, which keys fold in (a fixed 16 bytes, whatever the name's length).
pub(crate) struct Instantiation {
    name: &'static str,
    digest: [u8; 16],
}

impl Instantiation {
    pub(crate) fn new(name: &'static str) -> Self {
        Self {
            name,
            digest: xxhash_rust::xxh3::xxh3_128(name.as_bytes()).to_le_bytes(),
        }
    }

    /// The digest of `name`: this one's when it is this instantiation (the common case: one
    /// comparison of two pointers), else computed.
    pub(crate) fn digest_of(&self, name: &'static str) -> [u8; 16] {
        if std::ptr::eq(self.name, name) || self.name == name {
            self.digest
        } else {
            Self::new(name).digest
        }
    }
}

/// Whether the `type_name` of a closure declared in the function's body names more than the
/// marker fn's path: generic arguments (`m::Repo<u8>::label` against `m::Repo<_>::label`), or
/// the implementing type of a trait default body (`<m::A as m::Tr>::f` against `m::Tr::f`).
/// A nested fn does not inherit its parent's generics, so its path leaves them out; a closure
/// does, so its name says which instantiation runs.
pub(crate) fn is_instantiated(marker: &str, instance: &str) -> bool {
    let function = marker.strip_suffix("::__cq_id").unwrap_or(marker);
    let instance = instance.strip_suffix("::{{closure}}").unwrap_or(instance);
    function != instance
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
        let a = FunctionState::new("m::f".into(), 0, None).key_mask;
        assert_ne!(a, FunctionState::new("m::g".into(), 0, None).key_mask);
        assert_ne!(a, FunctionState::new("m::f".into(), 1, None).key_mask);
        assert_eq!(a, FunctionState::new("m::f".into(), 0, None).key_mask);
    }

    /// Names as rustc 1.95 prints them for a marker fn and a closure in the same async body.
    #[test]
    fn instantiations_are_told_from_the_names() {
        let plain = [
            (
                "m::free::{{closure}}::__cq_id",
                "m::free::{{closure}}::{{closure}}",
            ),
            (
                "m::Plain::f::{{closure}}::__cq_id",
                "m::Plain::f::{{closure}}::{{closure}}",
            ),
            (
                "<m::Plain as m::Tr>::f::{{closure}}::__cq_id",
                "<m::Plain as m::Tr>::f::{{closure}}::{{closure}}",
            ),
            // Lifetimes are erased alike in both.
            (
                "m::W<'_>::f::{{closure}}::__cq_id",
                "m::W<'_>::f::{{closure}}::{{closure}}",
            ),
        ];
        for (marker, instance) in plain {
            assert!(!is_instantiated(marker, instance), "{instance}");
        }
        let instantiated = [
            (
                "m::Repo<_>::label::{{closure}}::__cq_id",
                "m::Repo<u8>::label::{{closure}}::{{closure}}",
            ),
            (
                "m::Arr<N>::f::{{closure}}::__cq_id",
                "m::Arr<3>::f::{{closure}}::{{closure}}",
            ),
            (
                "m::Tr::f::{{closure}}::__cq_id",
                "<m::A as m::Tr>::f::{{closure}}::{{closure}}",
            ),
            (
                "<m::R as m::G<_>>::g::{{closure}}::__cq_id",
                "<m::R as m::G<u8>>::g::{{closure}}::{{closure}}",
            ),
            (
                "m::gen::{{closure}}::__cq_id",
                "m::gen<u8>::{{closure}}::{{closure}}",
            ),
            (
                "m::imp::{{closure}}::__cq_id",
                "m::imp<&str>::{{closure}}::{{closure}}",
            ),
        ];
        for (marker, instance) in instantiated {
            assert!(is_instantiated(marker, instance), "{instance}");
        }
    }
}
