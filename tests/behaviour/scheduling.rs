//! A hit never waits, so without help a task that only hits would hold its worker for good.
//! Cached calls spend tokio's cooperative budget (a unit per 16 calls): such a task yields
//! regularly, and other tasks on the same worker get to run.

use crate::Runs;
use cached_query::cached_query;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static PURE_HIT_RUNS: Runs = Runs::new();

#[cached_query(ttl = "1h")]
async fn pure_hit(id: u64) -> u64 {
    PURE_HIT_RUNS.bump();
    id * 2
}

#[test]
fn a_task_that_only_hits_does_not_starve_its_neighbours() {
    const HITS: u64 = 200_000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        pure_hit(7).await;
        let neighbour_ran = Arc::new(AtomicBool::new(false));
        // How many hits the loop had done when the neighbour first ran.
        let hits_when_neighbour_ran = Arc::new(AtomicU64::new(u64::MAX));
        let hits_done = Arc::new(AtomicU64::new(0));
        let hitter = tokio::spawn({
            let (neighbour_ran, hits_done) = (Arc::clone(&neighbour_ran), Arc::clone(&hits_done));
            async move {
                // Never awaits anything but hits: on one worker, only the budget lets the
                // neighbour in before this loop ends.
                for _ in 0..HITS {
                    assert_eq!(pure_hit(7).await, 14);
                    hits_done.fetch_add(1, Ordering::Relaxed);
                    if neighbour_ran.load(Ordering::Relaxed) {
                        break;
                    }
                }
            }
        });
        let neighbour = tokio::spawn({
            let (neighbour_ran, hits_done, seen) = (
                Arc::clone(&neighbour_ran),
                Arc::clone(&hits_done),
                Arc::clone(&hits_when_neighbour_ran),
            );
            async move {
                seen.store(hits_done.load(Ordering::Relaxed), Ordering::Relaxed);
                neighbour_ran.store(true, Ordering::Relaxed);
            }
        });
        hitter.await.unwrap();
        neighbour.await.unwrap();
        let seen = hits_when_neighbour_ran.load(Ordering::Relaxed);
        assert!(
            seen < HITS,
            "the neighbour only ran after all {HITS} hits: the hitting task never yielded"
        );
        assert_eq!(
            PURE_HIT_RUNS.get(),
            1,
            "every call after the first was a hit"
        );
    });
}
