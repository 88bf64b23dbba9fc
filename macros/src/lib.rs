//! Implementation detail of the `cached-query` crate: the `#[cached_query]`,
//! `#[cache_invalidate]` and `#[cache_put]` attributes.
//!
//! Use them through the facade (`cached_query::cached_query`, `cached_query::cache_invalidate`,
//! `cached_query::cache_put`);
//! this crate is not meant to be depended on directly. The generated code is described in `docs/expansion-contract.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod args;
mod error;
mod expand;
mod input;
mod plan;
mod site_config;
mod tags;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Memoizes an `async fn` or async method.
///
/// ```ignore
/// #[cached_query(ttl = "5m", tags = ["users", "user:{id}"], skip(db))]
/// async fn get_user(db: &Pool, id: u64) -> Result<User, DbError> { /* ... */ }
/// ```
///
/// Options: `ttl`, `tags`, `skip(..)`, `version`, `name`, `crate`, `local`, `store`, `returns`,
/// `cache_none`, `none_ttl`, `stale_if_error`, `stale_while_revalidate`, `early_refresh`,
/// `condition`, `unless`, `min_compute`, `result_tags`, `cache_err`, `err_ttl`, and for batch
/// queries `batch`, `merge`, `max_batch`. See the `cached-query` crate for the full
/// documentation.
#[proc_macro_attribute]
pub fn cached_query(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::cached_query(args.into(), item.into()).into()
}

/// Invalidates cache tags when an `async fn` or async method returns successfully.
///
/// ```ignore
/// #[cache_invalidate(tags = ["users", "user:{id}"])]
/// async fn update_user(db: &Pool, id: u64, name: String) -> Result<User, DbError> { /* ... */ }
/// ```
///
/// Options: `tags`, `before`, `crate`, `returns`. See the `cached-query` crate for the full
/// documentation.
#[proc_macro_attribute]
pub fn cache_invalidate(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::cache_invalidate(args.into(), item.into()).into()
}

/// Stores the value an `async fn` or async method returns as the cached entry of a read call.
///
/// ```ignore
/// #[cache_put(get_user(db, id))]
/// async fn update_user(db: &Pool, id: u64, name: String) -> Result<User, DbError> { /* ... */ }
/// ```
///
/// Options after the read calls: `crate`, `returns`. See the `cached-query` crate for the full
/// documentation.
#[proc_macro_attribute]
pub fn cache_put(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::cache_put(args.into(), item.into()).into()
}
