//! Return-type policies (which results are cached, and how a cached value becomes a result)
//! and the predicates applied to results (`cache_err`, `result_tags`).

use crate::bounds::ResultType;

/// `cache_err = <predicate>` applied to a result: `false` for `Ok`.
pub fn error_matches<R: ResultType, F: FnOnce(&R::Err) -> bool>(result: &R, predicate: F) -> bool {
    result.error().is_some_and(predicate)
}

/// Tags a result gives itself (`result_tags`), collected once it has been computed.
#[derive(Default)]
pub struct ResultTags {
    pub(crate) names: Vec<Box<str>>,
}

impl ResultTags {
    /// Adds a tag.
    pub fn push(&mut self, tag: &str) {
        self.names.push(tag.into());
    }
}

/// `result_tags = <closure or path>` applied to the stored part of a result (`T` of `Ok(T)`,
/// `Some(T)`, or the value): nothing for results that are not stored values.
pub fn tags_from<P, R, F, I>(result: &R, sink: &mut ResultTags, tags: F)
where
    P: Policy<R>,
    F: FnOnce(&P::Value) -> I,
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    if let Outcome::Value(value) = P::inspect(result) {
        for tag in tags(value) {
            sink.push(tag.as_ref());
        }
    }
}

/// A cached `Err` (`cache_err`), wrapped so that it can never be taken for an `Ok` value of the
/// same type. Weighed as the error it holds.
#[derive(serde::Serialize)]
#[serde(transparent)]
pub struct CachedErr<E>(pub(crate) E);

impl<E: crate::Weigh> crate::Weigh for CachedErr<E> {
    fn heap_bytes(&self) -> usize {
        self.0.heap_bytes()
    }
}

/// What a result means for the cache.
pub enum Outcome<'a, V> {
    /// Cache this value.
    Value(&'a V),
    /// A `None`: cached only with `cache_none`.
    Nothing,
    /// An `Err`: never cached.
    Error,
}

/// How a return type `R` maps to the cached value.
#[diagnostic::on_unimplemented(
    message = "`#[cached_query]` cannot treat `{R}` as {Self}'s return type",
    note = "choose how the result is cached with `returns = \"result\"`, `\"option\"` or `\"value\"`"
)]
pub trait Policy<R> {
    /// The part of `R` that is stored.
    type Value;
    /// Classifies a fresh result.
    fn inspect(result: &R) -> Outcome<'_, Self::Value>;
    /// Rebuilds a result from a stored value (`None`: a cached `None`).
    fn rebuild(value: Option<Self::Value>) -> Option<R>;
}

/// `Result<T, E>`: `Ok` is cached, `Err` goes back to the caller uncached.
pub struct ResultPolicy;
/// `Option<T>`: `Some` is cached; `None` only with `cache_none`.
pub struct OptionPolicy;
/// Any other type: cached as is.
pub struct ValuePolicy;

impl<T, E> Policy<Result<T, E>> for ResultPolicy {
    type Value = T;
    fn inspect(result: &Result<T, E>) -> Outcome<'_, T> {
        match result {
            Ok(value) => Outcome::Value(value),
            Err(_) => Outcome::Error,
        }
    }
    fn rebuild(value: Option<T>) -> Option<Result<T, E>> {
        value.map(Ok)
    }
}

impl<T> Policy<Option<T>> for OptionPolicy {
    type Value = T;
    fn inspect(result: &Option<T>) -> Outcome<'_, T> {
        match result {
            Some(value) => Outcome::Value(value),
            None => Outcome::Nothing,
        }
    }
    fn rebuild(value: Option<T>) -> Option<Option<T>> {
        Some(value)
    }
}

impl<T> Policy<T> for ValuePolicy {
    type Value = T;
    fn inspect(result: &T) -> Outcome<'_, T> {
        Outcome::Value(result)
    }
    fn rebuild(value: Option<T>) -> Option<T> {
        value
    }
}
