//! The calling modes, as the public API: each wraps one call (or a whole future) in a mode the
//! engine reads at the top of every cached call ([`crate::engine::mode`]).

use crate::engine::mode::{Mode, one_shot, scoped};
use std::future::Future;

/// Removes the cached entry of one call, without running it.
///
/// Pass the call itself: the compiler checks its arguments, and it works the same for free
/// functions and methods. The function's body does not run; `forget` returns `true` if an
/// entry was removed. A computation of the same key running at that moment is not stored.
/// Pass a single cached call: only the first cached call the future makes is forgotten.
///
/// ```
/// # async fn get_user(id: u64) -> Option<String> { Some(format!("user {id}")) }
/// # async fn demo() {
/// // With `#[cached_query] async fn get_user(id: u64) -> Option<String>`:
/// let removed: bool = cached_query_runtime::forget(get_user(42)).await;
/// # let _ = removed;
/// # }
/// ```
pub async fn forget<F: Future>(call: F) -> bool {
    match one_shot(Mode::Forget, call).await {
        Ok(_) => false,
        Err(removed) => removed,
    }
}

/// Removes every cached entry of the function that `call` calls, without running it.
///
/// The arguments are only there to name the function (and, for methods, the type): their
/// values do not matter. O(1): it bumps the function's implicit tag.
///
/// ```
/// # async fn get_user(id: u64) -> Option<String> { Some(format!("user {id}")) }
/// # async fn demo() {
/// cached_query_runtime::forget_all(get_user(0)).await;
/// # }
/// ```
pub async fn forget_all<F: Future>(call: F) {
    let _ = one_shot(Mode::ForgetAll, call).await;
}

/// Runs `call` even if a cached value exists, and stores its result in place of the old one.
///
/// Only the first cached call inside `call` is refreshed; the calls its body makes use the
/// cache as usual.
///
/// ```
/// # async fn get_user(id: u64) -> Option<String> { Some(format!("user {id}")) }
/// # async fn demo() {
/// let fresh = cached_query_runtime::refresh(get_user(42)).await;
/// # let _ = fresh;
/// # }
/// ```
pub async fn refresh<F: Future>(call: F) -> F::Output {
    scoped(Mode::Refresh, call).await
}

/// Runs `future` with the cache turned off: every cached call inside it runs its function and
/// neither reads nor writes the cache. For tests, and for code paths that must see the source.
///
/// ```
/// # async fn get_user(id: u64) -> Option<String> { Some(format!("user {id}")) }
/// # async fn demo() {
/// let from_the_database = cached_query_runtime::bypass(async {
///     get_user(42).await
/// }).await;
/// # let _ = from_the_database;
/// # }
/// ```
pub async fn bypass<F: Future>(future: F) -> F::Output {
    scoped(Mode::Bypass, future).await
}
