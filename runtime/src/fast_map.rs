//! The hash maps a call looks things up in (tag cells, the mirror's generations, origins, the
//! runtimes' connections): std's map with foldhash in place of SipHash.
//!
//! A Redis hit made eight or nine lookups in them, and SipHash cost 1,840 instructions a hit,
//! 7 % of the client's (callgrind on the workload of `benches/shared_hit.rs`). foldhash is
//! seeded at random per process, as std's `RandomState` is: tag names built from arguments
//! cannot be picked to collide without knowing the seed.

/// A `HashMap` hashed with foldhash (built with `Default`).
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// What picks a slot by `hash_one(..) % slots` (a shard, a trace slot): foldhash's variant
/// whose low bits are mixed as well as its high ones.
pub(crate) type SlotHasher = foldhash::quality::RandomState;
