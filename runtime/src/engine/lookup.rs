//! The first step of a call: its calling mode, then the in-memory entry judged by one freshness
//! rule, shared by the hit path and by the re-reads of the single-flight protocol.

use super::invalidation::invalidate_names;
use super::miss::{Enter, Miss, MissKind};
use super::mode::{self, Mode};
use crate::function::FunctionState;
use crate::key::Key;
use crate::observe::{self, CallOutcome, Tier};
use crate::runtime::{Runtime, runtime};
use crate::site::Site;
use crate::stats::{Counters, bump};
use crate::store::{Entry, ImplicitStamp};
use crate::value::Codec;
use std::sync::Arc;

/// How the engine is asked for a key.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Access {
    /// A cached call: the calling mode in force decides (generated code, `remember`).
    Call,
    /// Read the entry whatever the calling mode (`get`): never a refresh, never a removal.
    Read,
    /// Store a given value whatever is cached (`put`): a miss of kind refresh, not counted as a
    /// refreshed call.
    Store,
}

/// What an entry found in memory is good for, at `now`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Freshness {
    /// Within its TTL and no tag moved: served.
    Fresh,
    /// Expired, within its `stale_while_revalidate` window: served while one call recomputes.
    Revalidatable,
    /// Expired, within its `stale_if_error` window: kept in case the function fails.
    ServableOnError,
    /// Expired past its windows, or invalidated: dropped.
    Unfresh,
}

/// The one freshness rule: whether `entry` may be served at `now`, and if not what for.
pub(crate) fn freshness(site: &Site, entry: &Entry, now: u64) -> Freshness {
    if entry.is_fresh(now) {
        Freshness::Fresh
    } else if site.config.revalidate_ms.is_some() && entry.is_revalidatable(now) {
        Freshness::Revalidatable
    } else if entry.is_servable_on_error(now) {
        Freshness::ServableOnError
    } else {
        Freshness::Unfresh
    }
}

/// What the calling mode and the key ask of a call, before any lookup.
enum Start {
    /// Look the key up.
    Look(u128),
    /// Run without the cache (`bypass`, `condition`, a key that failed to encode).
    Uncached,
    /// Run and store whatever is cached (`refresh`, `put`).
    Refresh,
    /// Remove the entry (or the function's entries) instead of running.
    Forget(Mode),
    /// `#[cache_put]`: prepare the entry of this key for a value given later (`None`: the call
    /// is not cached, there is nothing to prepare).
    Put(Option<u128>),
}

/// What a call that is not a plain one (a calling mode, no key, the manual API's access) asks.
fn start(access: Access, key: &Key, counters: &Counters) -> Start {
    let bypassed = |counter| {
        bump(counter);
        let hash = key.hash.unwrap_or_default();
        observe::call(key.function, hash, CallOutcome::Bypass, Tier::Memory, None);
        Start::Uncached
    };
    let mode = match access {
        Access::Call => mode::current(),
        Access::Read => Mode::Normal,
        Access::Store if key.hash.is_some() => return Start::Refresh,
        Access::Store => Mode::Normal,
    };
    match mode {
        Mode::Normal | Mode::Done(_) => {}
        Mode::Bypass => return bypassed(&counters.bypassed),
        Mode::Refresh => {
            mode::consume();
            if key.hash.is_some() {
                bump(&counters.refreshed);
                return Start::Refresh;
            }
        }
        mode @ (Mode::Forget | Mode::ForgetAll) => return Start::Forget(mode),
        Mode::Put => {
            mode::consume();
            return Start::Put(key.hash.filter(|_| !key.skip));
        }
    }
    if key.skip {
        return bypassed(&counters.bypassed);
    }
    match key.hash {
        Some(hash) => Start::Look(hash),
        None => bypassed(&counters.key_errors),
    }
}

/// The lookup of one call, all of it synchronous: the calling mode, then the entry in memory.
///
/// Inlined into the caller: a plain call that finds a fresh entry is answered here, with no
/// other call and nothing moved but the answer; everything else (a calling mode, a miss, an
/// entry to judge further) goes on out of line in [`look_up_further`]. In a `forget` calling
/// mode the answer is the removal to await.
#[inline(always)]
pub(super) fn look_up<R>(
    site: &'static Site,
    key: &Key,
    codec: Codec<R>,
    access: Access,
) -> Enter<R> {
    let (Access::Call, false, Some(hash)) = (access, key.skip, key.hash) else {
        return look_up_further(site, key, codec, access, None);
    };
    if !mode::is_plain() {
        return look_up_further(site, key, codec, access, None);
    }
    let runtime = runtime();
    let now = runtime.now_nanos();
    // Judged and cloned out where the engine lends the entry: no reference to it is taken, and
    // only the value comes out, as one `Option` from the load to the answer (each wrapping on
    // the way, a tuple with its counters or an `Option` in an `Option`, was a copy of the value
    // through the stack). What needs no entry is done after the engine's lock is released:
    // the release waits for every load and store before it, and the function's implicit tags
    // (three loads, one after another) and the hit counter (a store) are not the entry's.
    let mut stamped: Option<ImplicitStamp> = None;
    let hit = runtime.store.read(
        hash,
        #[inline(always)]
        |entry| {
            if site.config.early_refresh.is_some() || !entry.is_fresh_by_own_stamps(now) {
                return None;
            }
            // A value of another type under this key (a 128-bit collision) is judged further.
            let hit = codec.load(entry);
            stamped = Some(entry.implicit_stamp());
            hit
        },
    );
    match (hit, stamped) {
        (Some(hit), Some(stamp)) if stamp.is_current() => {
            // The origin's counters are its function's in this instance: the call's own.
            stamp.origin.counters.hits.add_one();
            observe::call(key.function, hash, CallOutcome::Hit, Tier::Memory, None);
            Enter::Hit(hit)
        }
        _ => look_up_further(site, key, codec, access, Some(hash)),
    }
}

/// The rest of [`look_up`]: the calling mode when one is in force, then the entry judged by
/// [`freshness`]. `plain`: the key's hash, when the call is a plain one whose inline lookup
/// found no fresh entry (an entry there is read again, to be judged in full).
#[inline(never)]
fn look_up_further<R>(
    site: &'static Site,
    key: &Key,
    codec: Codec<R>,
    access: Access,
    plain: Option<u128>,
) -> Enter<R> {
    let function = key.function;
    let runtime = runtime();
    let counters = runtime.counters(function);
    let miss = |kind, previous| {
        Enter::Miss(Box::new(Miss::new(
            site, key, counters, kind, codec, previous,
        )))
    };
    let hash = match plain {
        Some(hash) => hash,
        None => match start(access, key, counters) {
            Start::Look(hash) => hash,
            Start::Uncached => return miss(MissKind::Uncached, None),
            Start::Refresh => return miss(MissKind::Refresh, None),
            Start::Put(Some(_)) => return miss(MissKind::Put, None),
            Start::Put(None) => {
                let ending = async { mode::finish(false) };
                return Enter::Miss(Box::new(Miss::ending(site, key, counters, codec, ending)));
            }
            Start::Forget(mode) => {
                let (shared, hash) = (codec.shared_enabled(), key.hash);
                let removal = async move {
                    let removed = forget(runtime, function, hash, shared, mode).await;
                    mode::finish(removed);
                };
                return Enter::Miss(Box::new(Miss::ending(site, key, counters, codec, removal)));
            }
        },
    };
    if let Some(entry) = runtime.store.get(hash) {
        let now = runtime.now_nanos();
        match freshness(site, &entry, now) {
            // A value of another type under this key (a 128-bit collision) is a miss.
            Freshness::Fresh => {
                if let Some(hit) = codec.load(&entry) {
                    if let Some(beta) = site.config.early_refresh
                        && refresh_early(runtime, &entry, now, beta)
                    {
                        return miss(MissKind::Revalidate, Some(entry));
                    }
                    counters.hits.add_one();
                    observe::call(function, hash, CallOutcome::Hit, Tier::Memory, None);
                    return Enter::Hit(hit);
                }
            }
            Freshness::Revalidatable => return miss(MissKind::Revalidate, Some(entry)),
            // Expired, but `stale_if_error` may still need it: keep it for this miss.
            Freshness::ServableOnError => {
                bump(&counters.misses);
                return miss(MissKind::Compute, Some(entry));
            }
            Freshness::Unfresh => {
                drop_unfresh(function, runtime, counters, hash, &entry, now);
            }
        }
    }
    bump(&counters.misses);
    miss(MissKind::Compute, None)
}

/// `early_refresh`, after XFetch (Vattani, Chierichetti and Lowenstein, "Optimal Probabilistic
/// Cache Stampede Prevention", VLDB 2015): recompute now if `compute · beta · −ln(u)` reaches
/// past the deadline, `u` uniform in (0, 1]. Hot keys are recomputed shortly before they expire,
/// by one caller, with a probability that rises as the deadline nears and with the time the
/// value took to compute.
fn refresh_early(runtime: &Runtime, entry: &Entry, now: u64, beta: f64) -> bool {
    let window = entry.compute_nanos() as f64 * beta;
    let remaining = entry.meta.expires_at_nanos.saturating_sub(now) as f64;
    // `u ≥ 2⁻⁵³`, so `−ln(u) ≤ 36.8`: further from the deadline no draw can fire, none is made.
    if window <= 0.0 || remaining > window * 37.0 {
        return false;
    }
    window * -runtime.random_unit().ln() >= remaining
}

/// `forget(call)` and `forget_all(call)`: whether anything was removed.
async fn forget(
    runtime: &'static Runtime,
    function: &FunctionState,
    hash: Option<u128>,
    shared: bool,
    mode: Mode,
) -> bool {
    if mode == Mode::ForgetAll {
        // `forget_all` returns nothing to report a shared-store failure to; the in-memory
        // invalidation has happened regardless.
        let _ = invalidate_names(runtime, &[&function.tag]).await;
        return true;
    }
    match hash {
        Some(hash) => remove(runtime, hash, shared).await,
        None => false,
    }
}

/// Removes the entry of `hash` from memory and (when its function shares values) from the
/// shared tier; a computation of it running now is not stored. Whether anything was removed.
pub(crate) async fn remove(runtime: &'static Runtime, hash: u128, shared: bool) -> bool {
    runtime.flights.doom(hash);
    let in_memory = runtime.store.remove(hash);
    let in_shared = match (&runtime.tier, shared) {
        (Some(tier), true) => tier.delete(hash).await.unwrap_or(false),
        _ => false,
    };
    in_memory || in_shared
}

/// A fresh cached result of `hash`, if there is one; a stale entry is dropped on the way.
pub(crate) async fn read<R>(
    runtime: &'static Runtime,
    site: &'static Site,
    function: &'static FunctionState,
    counters: &'static Counters,
    hash: u128,
    codec: Codec<R>,
) -> Option<R> {
    let entry = runtime.store.get(hash)?;
    let now = runtime.now_nanos();
    if freshness(site, &entry, now) == Freshness::Fresh {
        // A value of another type under this key (a 128-bit collision) is a miss.
        return codec.load(&entry);
    }
    drop_unfresh(function, runtime, counters, hash, &entry, now);
    None
}

/// Counts an expired or tag-invalidated entry and removes it (unless already replaced, or kept
/// for one of its windows).
pub(super) fn drop_unfresh(
    function: &'static FunctionState,
    runtime: &Runtime,
    counters: &Counters,
    hash: u128,
    entry: &Arc<Entry>,
    now: u64,
) {
    observe::call(function, hash, CallOutcome::Stale, Tier::Memory, None);
    if entry.is_kept_after_expiry(now) {
        // Kept for `stale_if_error` or `stale_while_revalidate` until their windows end (the
        // sweep removes it then).
        return;
    }
    let removed = runtime.store.remove_if_same(hash, entry);
    if entry.is_expired(now) {
        if removed {
            bump(&counters.expirations);
        }
    } else {
        bump(&counters.stale);
    }
}
