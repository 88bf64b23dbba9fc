//! What the `tracing` and `metrics` features report, captured by a subscriber and a recorder of
//! the test's own: outcomes for a miss, a hit, an error and an invalidation, counters after a
//! known sequence, and never an argument value.
#![cfg(all(feature = "tracing", feature = "metrics"))]
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // a test crate

use cached_query::cached_query;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use std::io::Write;
use std::sync::{Arc, Mutex};

const SECRET: &str = "s3cr3t-api-token";

#[cached_query(tags = ["account:{token}"])]
async fn account(token: String) -> Result<u32, String> {
    if token.is_empty() {
        Err("no token".into())
    } else {
        Ok(token.len() as u32)
    }
}

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn calls_and_invalidations_are_reported_without_argument_values() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::set_global_recorder(recorder).unwrap();

    let token = SECRET.to_string();
    assert_eq!(account(token.clone()).await, Ok(16)); // miss
    assert_eq!(account(token.clone()).await, Ok(16)); // hit
    assert!(account(String::new()).await.is_err()); // error
    cached_query::invalidate_tag(&format!("account:{SECRET}"))
        .await
        .unwrap();
    assert_eq!(account(token.clone()).await, Ok(16)); // stale, then miss

    let text = captured.text();
    for outcome in [
        "outcome=\"miss\"",
        "outcome=\"hit\"",
        "outcome=\"error\"",
        "outcome=\"stale\"",
    ] {
        assert!(text.contains(outcome), "no {outcome} in:\n{text}");
    }
    assert!(text.contains("tier=\"memory\""), "{text}");
    assert!(
        text.contains("invalidation") && text.contains("tags=1"),
        "{text}"
    );
    assert!(
        text.contains("observability::account"),
        "the function is named: {text}"
    );
    assert!(
        !text.contains(SECRET),
        "an argument value leaked into the events:\n{text}"
    );

    // One snapshot: taking one drains the recorder's counters.
    let metrics = snapshotter.snapshot().into_vec();
    let count = |outcome: &str| -> u64 {
        metrics
            .iter()
            .filter(|(key, _, _, _)| {
                let key = key.key();
                key.name() == "cached_query_calls_total"
                    && key
                        .labels()
                        .any(|l| l.key() == "outcome" && l.value() == outcome)
                    && key
                        .labels()
                        .any(|l| l.key() == "function" && l.value().ends_with("account"))
            })
            .map(|(_, _, _, value)| match value {
                DebugValue::Counter(n) => *n,
                _ => 0,
            })
            .sum()
    };
    assert_eq!(count("miss"), 2);
    assert_eq!(count("hit"), 1);
    assert_eq!(count("error"), 1);
    assert_eq!(count("stale"), 1);
    let histograms = metrics
        .iter()
        .filter(|(key, _, _, _)| key.key().name() == "cached_query_compute_seconds")
        .count();
    assert!(histograms >= 1, "the compute time is recorded");
}
