//! Invalidation by tag: the in-memory cells first (so this instance stops serving at once), then
//! the shared tier, which tells every other instance.

use crate::runtime::Runtime;
use crate::tier::TierError;

/// Invalidates `tags` in `runtime`'s memory, then in its shared tier (waiting until every
/// instance has applied it, within the tier's budget). `Err`: the tier did not confirm it.
pub(crate) async fn invalidate_names(runtime: &Runtime, tags: &[&str]) -> Result<(), TierError> {
    for tag in tags {
        runtime.tags.invalidate(tag);
    }
    crate::observe::invalidated(tags.len(), runtime.tier.is_none());
    match &runtime.tier {
        Some(tier) => tier.invalidate(tags).await,
        None => Ok(()),
    }
}
