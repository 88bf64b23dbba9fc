//! The stats as operators read them: JSON for the page and for scripts, Prometheus text for
//! scrapers. Derived figures (hit ratio, time saved) are computed here, once.

use cached_query::{FunctionStats, Stats};
use serde::Serialize;
use std::fmt::Write as _;

/// One function's row.
#[derive(Serialize)]
struct FunctionRow<'a> {
    name: &'a str,
    hits: u64,
    misses: u64,
    hit_ratio: f64,
    coalesced: u64,
    stale_served: u64,
    errors: u64,
    not_cached: u64,
    entries: u64,
    /// Bytes charged against the capacity for this function's entries.
    bytes: u64,
    compute_count: u64,
    compute_p50_ms: f64,
    compute_p99_ms: f64,
    compute_mean_ms: f64,
    /// Hits × the mean compute time: what the cache spared the function.
    time_saved_ms: f64,
}

#[derive(Serialize)]
struct Totals {
    hits: u64,
    misses: u64,
    hit_ratio: f64,
    entries: u64,
    bytes: u64,
    tag_cells: u64,
}

/// The shared tier's health, or `memory-only` without one.
#[derive(Serialize)]
pub(crate) struct Health {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    shared: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Report<'a> {
    /// Milliseconds since the Unix epoch, when the snapshot was taken.
    now_ms: u64,
    total: Totals,
    functions: Vec<FunctionRow<'a>>,
    health: Health,
}

fn millis(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

fn row(function: &FunctionStats) -> FunctionRow<'_> {
    let counts = &function.counts;
    let compute = &function.compute;
    let mean_ms = millis(compute.mean().as_nanos().try_into().unwrap_or(u64::MAX));
    FunctionRow {
        name: &function.name,
        hits: counts.hits,
        misses: counts.misses,
        hit_ratio: counts.hit_ratio(),
        coalesced: counts.coalesced,
        stale_served: counts.stale_served,
        errors: counts.errors,
        not_cached: counts.not_cached,
        entries: counts.entries,
        bytes: counts.weighted_size,
        compute_count: compute.count,
        compute_p50_ms: millis(compute.p50_nanos),
        compute_p99_ms: millis(compute.p99_nanos),
        compute_mean_ms: mean_ms,
        time_saved_ms: counts.hits as f64 * mean_ms,
    }
}

pub(crate) fn health(stats: &Stats) -> Health {
    match &stats.shared {
        None => Health {
            status: "memory-only",
            shared: None,
        },
        Some(shared) => Health {
            status: if shared.connected && shared.invalidations_pending == 0 {
                "ok"
            } else {
                "degraded"
            },
            shared: serde_json::to_value(shared).ok(),
        },
    }
}

/// The stats as JSON.
pub(crate) fn json(stats: &Stats) -> String {
    let total = &stats.total;
    let report = Report {
        now_ms: now_ms(),
        total: Totals {
            hits: total.hits,
            misses: total.misses,
            hit_ratio: total.hit_ratio(),
            entries: total.entries,
            bytes: total.weighted_size,
            tag_cells: stats.tag_cells,
        },
        functions: stats.functions.iter().map(row).collect(),
        health: health(stats),
    };
    serde_json::to_string(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A label value escaped as the Prometheus text format asks.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The stats in the Prometheus text exposition format (version 0.0.4).
pub(crate) fn prometheus(stats: &Stats) -> String {
    let mut out = String::new();
    type Metric = (
        &'static str,
        &'static str,
        &'static str,
        fn(&FunctionStats) -> f64,
    );
    let metrics: [Metric; 5] = [
        (
            "cached_query_hits_total",
            "counter",
            "Calls answered from a store.",
            |f| f.counts.hits as f64,
        ),
        (
            "cached_query_misses_total",
            "counter",
            "Calls that found nothing usable in memory.",
            |f| f.counts.misses as f64,
        ),
        (
            "cached_query_coalesced_total",
            "counter",
            "Misses answered by an identical running call.",
            |f| f.counts.coalesced as f64,
        ),
        ("cached_query_entries", "gauge", "Entries held.", |f| {
            f.counts.entries as f64
        }),
        (
            "cached_query_bytes",
            "gauge",
            "Bytes held, as charged against the capacity.",
            |f| f.counts.weighted_size as f64,
        ),
    ];
    for (name, kind, help, value) in metrics {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for function in &stats.functions {
            let _ = writeln!(
                out,
                "{name}{{function=\"{}\"}} {}",
                label(&function.name),
                value(function)
            );
        }
    }
    // Compute times as a summary: the two quantiles the histogram gives, its sum and count.
    let _ = writeln!(
        out,
        "# HELP cached_query_compute_seconds Time the function's body took when it ran."
    );
    let _ = writeln!(out, "# TYPE cached_query_compute_seconds summary");
    for function in &stats.functions {
        let name = label(&function.name);
        let times = &function.compute;
        for (quantile, nanos) in [("0.5", times.p50_nanos), ("0.99", times.p99_nanos)] {
            let seconds = nanos as f64 / 1e9;
            let _ = writeln!(
                out,
                "cached_query_compute_seconds{{function=\"{name}\",quantile=\"{quantile}\"}} {seconds}"
            );
        }
        let sum = times.total_nanos as f64 / 1e9;
        let _ = writeln!(
            out,
            "cached_query_compute_seconds_sum{{function=\"{name}\"}} {sum}"
        );
        let count = times.count;
        let _ = writeln!(
            out,
            "cached_query_compute_seconds_count{{function=\"{name}\"}} {count}"
        );
    }
    if let Some(shared) = &stats.shared {
        let _ = writeln!(
            out,
            "# HELP cached_query_shared_up Whether the shared tier is connected."
        );
        let _ = writeln!(out, "# TYPE cached_query_shared_up gauge");
        let _ = writeln!(out, "cached_query_shared_up {}", u8::from(shared.connected));
        let _ = writeln!(out, "# TYPE cached_query_shared_errors_total counter");
        let _ = writeln!(out, "cached_query_shared_errors_total {}", shared.errors);
        let _ = writeln!(out, "# TYPE cached_query_shared_timeouts_total counter");
        let _ = writeln!(
            out,
            "cached_query_shared_timeouts_total {}",
            shared.timeouts
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
