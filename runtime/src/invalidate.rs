//! Invalidation by tag.

use crate::runtime::Runtime;
use std::fmt;

/// An invalidation that could not reach every store. The in-memory invalidation has happened
/// regardless; this reports a shared store that did not confirm it in time. If the store did
/// not apply it, the instance keeps it and replays it when the store answers again, before it
/// reads anything from there (see `SharedStats::invalidations_pending`).
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
    crate::Cache::current().invalidate_tag(tag).await
}

/// Invalidates `tags` in `runtime` (an instance's methods name theirs).
pub(crate) async fn invalidate_in(runtime: &Runtime, tags: &[&str]) -> Result<(), InvalidateError> {
    crate::engine::invalidation::invalidate_names(runtime, tags)
        .await
        .map_err(|e| InvalidateError {
            message: format!(
                "invalidated in memory, but not confirmed by the shared store ({e}); \
                 if the store did not apply it, it is replayed there once it answers"
            ),
        })
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
    crate::Cache::current().invalidate_tags(tags).await
}

/// Invalidates every cached entry of every function.
///
/// ```
/// # async fn demo() -> Result<(), cached_query_runtime::InvalidateError> {
/// cached_query_runtime::invalidate_all().await?;
/// # Ok(()) }
/// ```
pub async fn invalidate_all() -> Result<(), InvalidateError> {
    crate::Cache::current().invalidate_all().await
}
