//! The leader's use of the shared tier: read through it before computing, write the result
//! behind. Any failure of the tier is a miss and a counter, never the caller's error.
//!
//! With cross-instance single-flight (`RedisConfig::coalesce_across_instances`), a miss the
//! shared tier could not answer claims the key before computing: the instance that gets the
//! lease reads once more (the value may have landed between its read and its claim) and
//! computes; the others wait until the lease is released, then read the value it wrote, or
//! claim the key themselves if there is none (the holder failed, or died and its lease ran
//! out).

use super::compute::Snapshot;
use super::miss::{Miss, MissKind};
use crate::observe::{CallOutcome, Tier};
use crate::stats::bump;
use crate::store::Entry;
use crate::tier::{self, Claim, Remote, TierError, Write, WriteTicket};
use crate::value::{SharedCodec, Stored};
use std::any::Any;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

/// What the shared tier made of a miss.
pub(super) enum ReadThrough<R> {
    /// A value another instance computed, now also in memory.
    Answered(R, Arc<Entry>),
    /// Compute it; `generations` (when the value is shared and the tier answered) holds the
    /// snapshot to write the result under, and this instance's claim on the key if it took one.
    Compute { generations: Option<WriteTicket> },
}

/// The longest a call waits for another instance's computation before it computes on its own.
const LONGEST_REMOTE_WAIT: Duration = Duration::from_secs(30);

impl<R> Miss<R> {
    /// Reads the key from the shared tier when the function shares its values; a refresh only
    /// reads the generations to write under.
    pub(super) async fn read_through(&self, snapshot: &mut Snapshot) -> ReadThrough<R> {
        let Some((tier, shared)) = self.shared() else {
            return ReadThrough::Compute { generations: None };
        };
        let names = self.remote_tag_names();
        let read = tier
            .read(
                self.hash,
                &names,
                self.entry_ttl(),
                self.wants_remote_value(),
            )
            .await;
        let first = self.accept_remote(tier, shared, read, snapshot);
        match first {
            ReadThrough::Compute {
                generations: Some(_),
            } if tier.coalesces() && self.wants_remote_value() => {
                self.claim_or_wait(tier, shared, &names, snapshot, first)
                    .await
            }
            answered_or_unreachable => answered_or_unreachable,
        }
    }

    /// Cross-instance single-flight: claims the key, or waits for the instance that holds it.
    /// `missed`: what the first read made of the miss, used if Redis stops answering.
    async fn claim_or_wait(
        &self,
        tier: &dyn tier::Tier,
        shared: SharedCodec,
        names: &[&str],
        snapshot: &mut Snapshot,
        mut missed: ReadThrough<R>,
    ) -> ReadThrough<R> {
        let started = Instant::now();
        let mut waited = false;
        loop {
            let lease = match tier.claim(self.hash).await {
                Ok(Claim::Leased(lease)) => Some(lease),
                Ok(Claim::Held) if started.elapsed() < LONGEST_REMOTE_WAIT => {
                    tier.wait_released(self.hash).await;
                    waited = true;
                    None
                }
                // Redis unreachable, or waited long enough: compute here (never worse than
                // without coalescing).
                Ok(Claim::Held) | Err(_) => return missed,
            };
            // Read (again): the value the holder wrote, or one that landed before our claim.
            let read = tier.read(self.hash, names, self.entry_ttl(), true).await;
            match self.accept_remote(tier, shared, read, snapshot) {
                answered @ ReadThrough::Answered(..) => {
                    if waited {
                        tier.count_coalesced();
                    }
                    return answered;
                }
                ReadThrough::Compute {
                    generations: Some(mut ticket),
                } => {
                    if lease.is_some() {
                        ticket.lease = lease;
                        return ReadThrough::Compute {
                            generations: Some(ticket),
                        };
                    }
                    // No value yet (still computing, or the holder gave up or died): claim
                    // again; a lease still held means waiting again.
                    missed = ReadThrough::Compute {
                        generations: Some(ticket),
                    };
                }
                unreachable @ ReadThrough::Compute { generations: None } => return unreachable,
            }
        }
    }

    /// The TTL the entry will have: tag counters read for it must outlive it.
    pub(super) fn entry_ttl(&self) -> Duration {
        self.ttl_override
            .unwrap_or_else(|| self.site.ttl(self.runtime))
    }

    /// Whether the read wants the value (a refresh only reads the generations to write under).
    pub(super) fn wants_remote_value(&self) -> bool {
        self.kind != MissKind::Refresh
    }

    /// What a read of this key from the shared tier makes of the miss: a value another
    /// instance computed (now also in memory), or the generations to compute under. Also used
    /// for each item of a batch, read in one round trip.
    pub(super) fn accept_remote(
        &self,
        tier: &dyn tier::Tier,
        shared: SharedCodec,
        read: Result<Remote, TierError>,
        snapshot: &mut Snapshot,
    ) -> ReadThrough<R> {
        let generations = match read {
            Ok(Remote::Hit {
                schema,
                payload,
                ttl_left,
                generations,
            }) => {
                let limits = tier.limits();
                let size = payload.as_ref().map_or(0, Vec::len);
                match tier::decode(limits, shared, schema, payload) {
                    Some(value) => {
                        let ttl = self
                            .local_ttl(Stored::value_or_nothing(value.value()))
                            .min(limits.l1_ttl_cap)
                            .min(ttl_left.unwrap_or(Duration::MAX));
                        // The stamps go to the entry (a hit needs them no more): not cloned.
                        let stamps = snapshot.stamps.take_out();
                        let entry = self.insert(value, size, stamps, ttl, 0);
                        if let Some(result) = self.codec.load(&entry) {
                            bump(&self.counters.remote_hits);
                            self.observe_at(CallOutcome::Hit, Tier::Redis, None);
                            return ReadThrough::Answered(result, entry);
                        }
                        // A cached `None` read by a function that cannot return one (its
                        // `Result` or plain value shares the schema of an `Option`'s value).
                        self.runtime.store.remove_if_same(self.hash, &entry);
                        tier.count_refused();
                        // Taken again for the body, which has not run yet.
                        *snapshot = self.snapshot();
                    }
                    None => tier.count_refused(),
                }
                generations.into_vec()
            }
            Ok(Remote::Miss { generations }) => generations,
            // Redis down, slow or refusing: the function runs, the value stays in memory.
            Err(_) => return ReadThrough::Compute { generations: None },
        };
        ReadThrough::Compute {
            generations: Some(WriteTicket {
                generations,
                lease: None,
            }),
        }
    }

    /// Queues the value for the shared tier, under the generations read before computing it.
    pub(super) fn write_remote(
        &self,
        value: Option<&(dyn Any + Send + Sync)>,
        ticket: WriteTicket,
    ) {
        let Some((tier, shared)) = self.shared() else {
            return;
        };
        let payload = match value {
            Some(value) => match tier::encode(tier.limits(), shared, value) {
                Some(bytes) => Some(bytes),
                None => {
                    tier.count_refused();
                    return;
                }
            },
            None => None,
        };
        tier.write(Write {
            key: self.hash,
            tags: self.remote_tag_arcs(),
            generations: ticket.generations,
            schema: tier::schema_fingerprint(shared),
            ttl: self.local_ttl(Stored::value_or_nothing(payload.as_ref())),
            payload,
            lease: ticket.lease,
        });
    }
}
