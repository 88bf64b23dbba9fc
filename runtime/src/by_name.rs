//! Invalidation of a function by its name, for operators: an endpoint gets a name as text,
//! not a call to pass to [`forget_all`](crate::forget_all).

use crate::cache::Cache;
use crate::invalidate::InvalidateError;

impl Cache {
    /// Invalidates every entry of the function (or [`Keyspace`](crate::Keyspace)) named `name`
    /// in this instance, found as [`Stats::function`](crate::Stats::function) finds it (its
    /// whole name, or trailing path segments). `Ok(false)`: no function of that name has been
    /// called here, so there was nothing to invalidate.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let cache = cached_query_runtime::Cache::current();
    /// let found = cache.invalidate_function("app::users::get_user").await;
    /// assert!(matches!(found, Ok(false)));
    /// # }
    /// ```
    pub async fn invalidate_function(&self, name: &str) -> Result<bool, InvalidateError> {
        let stats = self.stats();
        let Some(function) = stats.function(name) else {
            return Ok(false);
        };
        // The implicit tag every entry of the function carries (see `FunctionState`).
        let tag = format!("\u{1}fn:{}", function.name);
        self.invalidate_tag(&tag).await.map(|()| true)
    }
}
