//! Invalidation by tag.

use crate::runtime::runtime;
use std::fmt;

/// An invalidation that could not reach every store. The in-memory invalidation has happened
/// regardless; this reports a remote store that may still hold the old values.
#[derive(Debug)]
#[non_exhaustive]
pub struct InvalidateError {
    message: String,
}

impl fmt::Display for InvalidateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InvalidateError {}

/// Invalidates every entry tagged `tag`, in O(1) whatever their number.
///
/// When it returns, no cached call serves a value computed before it: entries computed earlier,
/// and computations still running, are treated as misses.
///
/// ```
/// # async fn demo() -> Result<(), cached_query_runtime::InvalidateError> {
/// // after writing user 42:
/// cached_query_runtime::invalidate_tag("user:42").await?;
/// # Ok(()) }
/// ```
pub async fn invalidate_tag(tag: &str) -> Result<(), InvalidateError> {
    invalidate_names(&[tag]).await
}

/// Invalidates `tags` in memory, then in the shared store (waiting until every instance has
/// applied it, within the budget).
pub(crate) async fn invalidate_names(tags: &[&str]) -> Result<(), InvalidateError> {
    let runtime = runtime();
    for tag in tags {
        runtime.tags.invalidate(tag);
    }
    #[cfg(feature = "redis")]
    crate::observe::invalidated(tags.len(), runtime.shared.is_none());
    #[cfg(not(feature = "redis"))]
    crate::observe::invalidated(tags.len(), true);
    #[cfg(feature = "redis")]
    if let Some(tier) = &runtime.shared {
        return tier.invalidate(tags).await.map_err(|e| InvalidateError {
            message: format!("invalidated in memory, but not confirmed by the shared store: {e}"),
        });
    }
    Ok(())
}

/// Invalidates every entry carrying any of `tags`.
///
/// ```
/// # async fn demo() -> Result<(), cached_query_runtime::InvalidateError> {
/// cached_query_runtime::invalidate_tags(["users", "user:42"]).await?;
/// # Ok(()) }
/// ```
pub async fn invalidate_tags<I>(tags: I) -> Result<(), InvalidateError>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let owned: Vec<I::Item> = tags.into_iter().collect();
    let names: Vec<&str> = owned.iter().map(AsRef::as_ref).collect();
    invalidate_names(&names).await
}

/// Invalidates every cached entry of every function.
///
/// ```
/// # async fn demo() -> Result<(), cached_query_runtime::InvalidateError> {
/// cached_query_runtime::invalidate_all().await?;
/// # Ok(()) }
/// ```
pub async fn invalidate_all() -> Result<(), InvalidateError> {
    invalidate_names(&[crate::tags::EPOCH_TAG]).await
}
