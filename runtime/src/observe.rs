//! Reporting to the tools services already run: `tracing` events (feature `tracing`) and
//! `metrics` counters and histograms (feature `metrics`). Without those features every hook
//! here is an empty inline function: nothing is added to any path.
//!
//! Keys are reported as their 128-bit hash, and tags only by count: tag templates interpolate
//! argument values, which may be secrets (emails, tokens).

#[cfg(feature = "metrics")]
use crate::function::FunctionMetrics;
use crate::function::FunctionState;
use std::time::Duration;

/// What happened to a cached call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallOutcome {
    /// Answered from a store.
    Hit,
    /// The function ran and its result was stored.
    Miss,
    /// Took the result of an identical call already running.
    Coalesced,
    /// An entry was found but invalidated or expired (a miss follows).
    Stale,
    /// `refresh`: the function ran and replaced the entry.
    Refresh,
    /// `bypass`, or a key that could not be encoded: the function ran uncached.
    Bypass,
    /// The function returned `Err` (or `None` without `cache_none`): not cached.
    Error,
}

impl CallOutcome {
    #[cfg_attr(not(any(feature = "tracing", feature = "metrics")), allow(dead_code))]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Hit => "hit",
            CallOutcome::Miss => "miss",
            CallOutcome::Coalesced => "coalesced",
            CallOutcome::Stale => "stale",
            CallOutcome::Refresh => "refresh",
            CallOutcome::Bypass => "bypass",
            CallOutcome::Error => "error",
        }
    }
}

/// Where the answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tier {
    /// The in-memory store (or the function itself).
    Memory,
    /// The shared store.
    Redis,
}

impl Tier {
    #[cfg_attr(not(any(feature = "tracing", feature = "metrics")), allow(dead_code))]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Tier::Memory => "memory",
            Tier::Redis => "redis",
        }
    }
}

#[cfg(feature = "metrics")]
const OUTCOMES: [CallOutcome; 7] = [
    CallOutcome::Hit,
    CallOutcome::Miss,
    CallOutcome::Coalesced,
    CallOutcome::Stale,
    CallOutcome::Refresh,
    CallOutcome::Bypass,
    CallOutcome::Error,
];

#[cfg(feature = "metrics")]
const TIERS: [Tier; 2] = [Tier::Memory, Tier::Redis];

/// Registers the metric handles of `function`.
#[cfg(feature = "metrics")]
fn register_metrics(function: &str) -> FunctionMetrics {
    let mut calls = Vec::with_capacity(OUTCOMES.len() * TIERS.len());
    for outcome in OUTCOMES {
        for tier in TIERS {
            calls.push(metrics::counter!(
                "cached_query_calls_total",
                "function" => function.to_string(),
                "outcome" => outcome.as_str(),
                "tier" => tier.as_str()
            ));
        }
    }
    FunctionMetrics {
        calls,
        compute: metrics::histogram!("cached_query_compute_seconds", "function" => function.to_string()),
    }
}

/// One cached call's outcome; `computed` is the function's own time when it ran.
#[inline]
pub(crate) fn call(
    function: &'static FunctionState,
    key: u128,
    outcome: CallOutcome,
    tier: Tier,
    computed: Option<Duration>,
) {
    #[cfg(feature = "tracing")]
    tracing::event!(
        target: "cached_query",
        tracing::Level::DEBUG,
        function = &*function.name,
        key = %format_args!("{key:032x}"),
        outcome = outcome.as_str(),
        tier = tier.as_str(),
        computed_us = computed.map(|d| d.as_micros() as u64),
        "cached call"
    );
    #[cfg(feature = "metrics")]
    {
        let handles = function
            .metrics
            .get_or_init(|| register_metrics(&function.name));
        handles.calls[outcome as usize * TIERS.len() + tier as usize].increment(1);
        if let Some(computed) = computed {
            handles.compute.record(computed.as_secs_f64());
        }
    }
    // Only some of these are used, depending on the features.
    let _ = (function, key, outcome, tier, computed);
}

/// An invalidation of `tags` (reported by count only).
#[inline]
pub(crate) fn invalidated(tags: usize, local_only: bool) {
    #[cfg(feature = "tracing")]
    tracing::event!(
        target: "cached_query",
        tracing::Level::DEBUG,
        tags,
        local_only,
        "invalidation"
    );
    #[cfg(feature = "metrics")]
    metrics::counter!("cached_query_invalidations_total").increment(tags as u64);
    let _ = (tags, local_only);
}

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use super::*;

    #[test]
    fn handle_indices_follow_declaration_order() {
        for (i, outcome) in OUTCOMES.iter().enumerate() {
            assert_eq!(*outcome as usize, i);
        }
        for (i, tier) in TIERS.iter().enumerate() {
            assert_eq!(*tier as usize, i);
        }
    }
}
