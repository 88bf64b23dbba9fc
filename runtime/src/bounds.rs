//! The bounds generated code checks, each with the wording users see when it is not met
//! (`#[diagnostic::on_unimplemented]`): the error names the user's argument or return type and
//! says how to fix it.
//!
//! The key and value bounds are one error each, whatever fails inside them: their blanket
//! impls are `#[diagnostic::do_not_recommend]`, so rustc reports the bound itself (one error for
//! an `Rc<String>` that is neither `Send`, `Sync`, `Serialize` nor `Deserialize`) and never
//! suggests a path to serde's internals (`serde_core::ser::Serialize`) that the user's crate
//! cannot name. Generated code checks them with `M`, the type of a closure declared in the
//! function's body: rustc does not suggest a bound whose trait arguments it cannot print as
//! code, so a generic parameter that misses a bound gets our note, not "consider restricting
//! `T` with `KeyArg`". Hand-made callers use the default `M = ()`.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// An argument that is part of the cache key.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of a cache key",
    label = "this argument is part of the cache key",
    note = "key arguments must implement `serde::Serialize`",
    note = "if this argument does not identify the result (a pool, a client, a context), add it to `skip(...)` in `#[cached_query]`"
)]
pub trait KeyArg<M = ()>: Serialize {}
#[diagnostic::do_not_recommend]
impl<T: Serialize + ?Sized, M> KeyArg<M> for T {}

/// The receiver, which is part of the key unless `skip(self)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of a cache key",
    label = "`self` is part of the cache key",
    note = "implement `serde::Serialize` for the receiver's type, or add `skip(self)` to `#[cached_query]` if every instance returns the same results"
)]
pub trait KeyReceiver<M = ()>: Serialize {}
#[diagnostic::do_not_recommend]
impl<T: Serialize + ?Sized, M> KeyReceiver<M> for T {}

/// A value `#[cached_query]` can store (and later share through a remote store).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored by `#[cached_query]`",
    label = "the cached value",
    note = "cached values must be `Clone + Send + Sync + 'static` (they are shared between threads) and `serde::Serialize + serde::de::DeserializeOwned` (they may be kept in a shared store)",
    note = "`#[cached_query(local)]` keeps the value in memory and lifts the serde bounds only; for a value that is not `Send + Sync`, such as `Rc<T>` or `RefCell<T>`, return `T` itself: each hit gets its own clone"
)]
pub trait CacheValue<M = ()>: Clone + Send + Sync + 'static + Serialize + DeserializeOwned {}
#[diagnostic::do_not_recommend]
impl<T: Clone + Send + Sync + 'static + Serialize + DeserializeOwned, M> CacheValue<M> for T {}

/// A value `#[cached_query(local)]` can store in memory.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored by `#[cached_query(local)]`",
    label = "the cached value",
    note = "cached values must be `Clone + Send + Sync + 'static`: they are shared between threads",
    note = "for a value that is not `Send + Sync`, such as `Rc<T>` or `RefCell<T>`, return `T` itself: each hit gets its own clone"
)]
pub trait LocalValue<M = ()>: Clone + Send + Sync + 'static {}
#[diagnostic::do_not_recommend]
impl<T: Clone + Send + Sync + 'static, M> LocalValue<M> for T {}

/// An error `cache_err` may store.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be cached as an error by `cache_err`",
    label = "the error type",
    note = "errors cached with `cache_err` must be `Clone + Send + Sync + 'static` (they stay in process memory, so no serde bounds)"
)]
pub trait CacheError: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> CacheError for T {}

/// A `Result` type, whatever its alias: what `cache_err` needs to see the error.
#[diagnostic::on_unimplemented(
    message = "`cache_err` needs a `Result` return type, not `{Self}`",
    label = "not a `Result`"
)]
pub trait ResultType {
    /// `T` of `Result<T, E>`.
    type Ok;
    /// `E` of `Result<T, E>`.
    type Err;
    /// The error, if this is an `Err`.
    fn error(&self) -> Option<&Self::Err>;
    /// `Err(error)`.
    fn from_error(error: Self::Err) -> Self;
}

impl<T, E> ResultType for Result<T, E> {
    type Ok = T;
    type Err = E;
    fn error(&self) -> Option<&E> {
        self.as_ref().err()
    }
    fn from_error(error: E) -> Self {
        Err(error)
    }
}

/// What `#[cache_put]` checks: the value a write function returns is what the read function it
/// names caches (`T` for a read function returning `Result<T, E>`, `Option<T>` or `T`).
#[diagnostic::on_unimplemented(
    message = "`#[cache_put]` stores a `{V}`, but the read call it names returns `{Self}`",
    label = "the read function caches another type than this function returns",
    note = "the value `#[cache_put]` stores is the `T` of this function's `Result<T, E>`, `Option<T>` or `T`; it must be the `T` of the read function's `Result<T, E>`, `Option<T>` or `T`",
    note = "return the read function's value type from this function, or name a read function that caches this type"
)]
pub trait PutTarget<V> {}
impl<T> PutTarget<T> for T {}
impl<T, E> PutTarget<T> for Result<T, E> {}
impl<T> PutTarget<T> for Option<T> {}
