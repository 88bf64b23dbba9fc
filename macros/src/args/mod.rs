//! The attributes' arguments: `#[cached_query(ttl = "5m", tags = [..], skip(..), ...)]` and
//! `#[cache_invalidate(tags = [..], before, ...)]` and `#[cache_put(get_user(db, id), ...)]`.
//!
//! Everything here is purely syntactic; checks against the function (do `skip` names exist, do
//! tag placeholders name parameters, does `cache_none` fit the return type) live in
//! `validate`. Each value's shape is read in `forms`, `duration` and `values`.

use darling::FromMeta;
use darling::ast::NestedMeta;
use darling::util::Flag;
use proc_macro2::{Span, TokenStream};
use syn::{LitStr, Meta};

mod batch;
mod duration;
mod forms;
mod put;
mod shape;
mod values;

use forms::Tags;
pub(crate) use values::{CratePath, EarlyRefresh, Returns};

pub(crate) use batch::{BatchOption, CacheNone, MaxBatch};
pub(crate) use duration::Duration;
#[cfg(test)]
pub(crate) use duration::parse_duration;
pub(crate) use put::{CachePutArgs, PUT_EXAMPLE};

/// Options that users reach for by analogy with other caching crates, with a targeted hint.
const RENAMED: &[(&str, &str)] = &[
    ("ttl_secs", TTL_HINT),
    ("ttl_ms", TTL_HINT),
    ("time", TTL_HINT),
    ("expire", TTL_HINT),
    (
        "key",
        "the cache key is derived from the function's arguments; leave arguments out of it \
         with `skip(...)`, and give the function a stable identity with `name = \"...\"`",
    ),
    ("size", CAPACITY_HINT),
    ("max_size", CAPACITY_HINT),
    ("capacity", CAPACITY_HINT),
    (
        "sync_writes",
        "concurrent calls with the same key are always single-flight",
    ),
];
const TTL_HINT: &str =
    "use `ttl = ...` (integer seconds, or a string like \"30s\", \"5m\", \"150ms\")";
const CAPACITY_HINT: &str = "capacity is configured at start-up, not per function";

/// Parsed `#[cached_query(...)]` arguments.
#[derive(Debug, FromMeta)]
pub(crate) struct CachedQueryArgs {
    /// `ttl = 60` / `ttl = "5m"`.
    pub(crate) ttl: Option<Duration>,
    /// `tags = ["users", "user:{id}"]`: not empty when written (checked in `check`).
    #[darling(default, with = forms::tag_list)]
    pub(crate) tags: Tags,
    /// `skip(db, self)`.
    #[darling(default, with = forms::skip)]
    pub(crate) skip: Vec<syn::Path>,
    /// `version = 2`.
    #[darling(default, with = forms::version)]
    pub(crate) version: Option<u32>,
    /// `name = "users.get"`.
    #[darling(default, with = forms::string)]
    pub(crate) name: Option<LitStr>,
    /// `crate = ::my_lib::cached_query`.
    #[darling(rename = "crate")]
    pub(crate) krate: Option<CratePath>,
    /// `local`: keep values in process memory only.
    #[darling(default, with = forms::flag)]
    pub(crate) local: Flag,
    /// `store = "catalog"`: the named store the application configured for this function.
    #[darling(default, with = forms::string)]
    pub(crate) store: Option<LitStr>,
    /// `returns = "result" | "option" | "value"`.
    #[darling(default, with = cached_returns)]
    pub(crate) returns: Option<WrittenReturns>,
    /// `cache_none`: also cache `None` (Option policy only); a batch caches absent items unless
    /// `cache_none = false`.
    #[darling(default, with = batch::cache_none)]
    pub(crate) cache_none: CacheNone,
    /// `none_ttl = "30s"`: TTL of cached `None`s.
    pub(crate) none_ttl: Option<Duration>,
    /// `stale_if_error = "5m"`: how long after expiry the last `Ok` may stand in for an `Err`.
    pub(crate) stale_if_error: Option<Duration>,
    /// `condition = id > 0`: a `bool` expression over the parameters; `false` runs the call
    /// uncached.
    #[darling(default, with = forms::code)]
    pub(crate) condition: Option<syn::Expr>,
    /// `unless = |r: &R| ...` or `unless = path::to::fn`: a result it accepts is not stored.
    #[darling(default, with = forms::code)]
    pub(crate) unless: Option<syn::Expr>,
    /// `min_compute = "10ms"`: results computed faster than this are not stored.
    pub(crate) min_compute: Option<Duration>,
    /// `stale_while_revalidate = "1m"`: how long after expiry the value is still returned at
    /// once while a background call recomputes it.
    pub(crate) stale_while_revalidate: Option<Duration>,
    /// `early_refresh` or `early_refresh = 2.0`: probabilistic recomputation before expiry.
    pub(crate) early_refresh: Option<EarlyRefresh>,
    /// `result_tags = |value| ...` or a path: tags taken from the stored value.
    #[darling(default, with = forms::code)]
    pub(crate) result_tags: Option<syn::Expr>,
    /// `cache_err = |e: &E| ...` or a path: errors it accepts are cached.
    #[darling(default, with = forms::code)]
    pub(crate) cache_err: Option<syn::Expr>,
    /// `err_ttl = "30s"`: TTL of cached errors.
    pub(crate) err_ttl: Option<Duration>,
    /// `batch`, `batch(ids)`, `batch(ids as id)`: one call for many items, each cached alone.
    #[darling(default, with = batch::batch)]
    pub(crate) batch: Option<BatchOption>,
    /// `merge = "2ms"`: concurrent calls of a batch function merged into one body call.
    pub(crate) merge: Option<Duration>,
    /// `max_batch = 500`: how many items one merged body call takes at most.
    #[darling(default, with = batch::max_batch)]
    pub(crate) max_batch: Option<MaxBatch>,
}

impl CachedQueryArgs {
    /// Parses the attribute's argument tokens, accumulating every error.
    pub(crate) fn parse(args: TokenStream) -> darling::Result<Self> {
        let items = NestedMeta::parse_meta_list(args)?;
        let mut acc = darling::Error::accumulator();
        let mut kept = Vec::with_capacity(items.len());
        for item in options_only(items, &mut acc) {
            match renamed_message(&item) {
                Some((span, msg)) => acc.push(darling::Error::custom(msg).with_span(&span)),
                None => kept.push(item),
            }
        }
        let parsed = acc.handle(Self::from_list(&kept));
        if let Some(parsed) = &parsed {
            parsed.check(&mut acc);
        }
        acc.finish()?;
        // `finish` returned `Ok`, so no error was recorded and `parsed` is `Some`.
        parsed.ok_or_else(|| darling::Error::custom("`#[cached_query]` arguments failed to parse"))
    }

    /// Option-against-option checks.
    fn check(&self, acc: &mut darling::error::Accumulator) {
        // "forever" is a TTL; a window or a threshold that never ends is a mistake.
        let not_ttls = [
            ("stale_if_error", &self.stale_if_error),
            ("stale_while_revalidate", &self.stale_while_revalidate),
            ("min_compute", &self.min_compute),
            ("merge", &self.merge),
        ];
        for (option, duration) in not_ttls {
            if let Some(duration) = duration.as_ref().filter(|d| d.is_forever()) {
                acc.push(
                    darling::Error::custom(format!(
                        "`{option}` takes a finite duration such as \"30s\": \"forever\" is \
                         only for `ttl`, `none_ttl` and `err_ttl`"
                    ))
                    .with_span(&duration.span),
                );
            }
        }
        if let Some(span) = self.tags.written_empty() {
            acc.push(
                darling::Error::custom(
                    "`tags` must not be empty: list the tags of this function's entries, e.g. \
                     `tags = [\"users\", \"user:{id}\"]`, or remove the option",
                )
                .with_span(&span),
            );
        }
        if let Some(store) = &self.store {
            if store.value().is_empty() {
                acc.push(
                    darling::Error::custom(
                        "`store` must not be empty: name a store the application configures, e.g. `store = \"catalog\"`",
                    )
                    .with_span(store),
                );
            } else if self.local.is_present() {
                acc.push(
                    darling::Error::custom(
                        "a `local` function is kept in process memory: remove `store`, or remove `local` to let the application choose its store",
                    )
                    .with_span(store),
                );
            }
        }
        if let Some(name) = &self.name
            && name.value().is_empty()
        {
            acc.push(
                darling::Error::custom(
                    "`name` must not be empty: give a stable identity such as `name = \"users.get\"`, or remove the option",
                )
                .with_span(name),
            );
        }
        if let Some(err_ttl) = &self.err_ttl
            && self.cache_err.is_none()
        {
            acc.push(
                darling::Error::custom(
                    "`err_ttl` requires `cache_err`: errors are only cached when chosen with \
                     `#[cached_query(cache_err = |e: &MyError| ..., err_ttl = ...)]`",
                )
                .with_span(&err_ttl.span),
            );
        }
        self.check_batch(acc);
        if let Some(none_ttl) = &self.none_ttl
            && !self.cache_none.is_present()
            && self.batch.is_none()
        {
            acc.push(
                darling::Error::custom(
                    "`none_ttl` requires `cache_none`: `None` results are only cached with `#[cached_query(cache_none, none_ttl = ...)]`",
                )
                .with_span(&none_ttl.span),
            );
        }
    }
}

/// The options, without the bare literals (`#[cached_query("users")]`), each an error.
fn options_only(items: Vec<NestedMeta>, acc: &mut darling::error::Accumulator) -> Vec<NestedMeta> {
    items
        .into_iter()
        .filter(|item| match item {
            NestedMeta::Lit(lit) => {
                acc.push(
                    darling::Error::custom(
                        "expected an option such as `ttl = \"5m\"` or `skip(db)`, not a bare \
                         value (a tag goes in `tags = [\"users\"]`)",
                    )
                    .with_span(lit),
                );
                false
            }
            _ => true,
        })
        .collect()
}

fn renamed_message(item: &NestedMeta) -> Option<(Span, String)> {
    let NestedMeta::Meta(meta) = item else {
        return None;
    };
    let ident = meta.path().get_ident()?;
    RENAMED
        .iter()
        .find(|(name, _)| ident == name)
        .map(|(name, hint)| {
            let msg = format!("`#[cached_query]` has no `{name}` option: {hint}");
            (ident.span(), msg)
        })
}

/// Parsed `#[cache_invalidate(...)]` arguments.
#[derive(Debug, FromMeta)]
pub(crate) struct CacheInvalidateArgs {
    /// `tags = ["users", "user:{id}"]`: required and non-empty (checked in `parse`).
    #[darling(default, with = forms::tag_list)]
    pub(crate) tags: Tags,
    /// `before`: invalidate before the body runs, whatever it returns.
    #[darling(default, with = forms::flag)]
    pub(crate) before: Flag,
    /// `crate = ::my_lib::cached_query`.
    #[darling(rename = "crate")]
    pub(crate) krate: Option<CratePath>,
    /// `returns = "result" | "value"`.
    #[darling(default, with = invalidate_returns)]
    pub(crate) returns: Option<Returns>,
}

impl CacheInvalidateArgs {
    /// Parses the attribute's argument tokens, accumulating every error.
    pub(crate) fn parse(args: TokenStream) -> darling::Result<Self> {
        let items = NestedMeta::parse_meta_list(args)?;
        let mut acc = darling::Error::accumulator();
        let items = options_only(items, &mut acc);
        let parsed = acc.handle(Self::from_list(&items));
        if let Some(parsed) = &parsed {
            if !parsed.tags.is_written() {
                acc.push(darling::Error::custom(
                    "`#[cache_invalidate]` needs the tags to invalidate: add \
                     `tags = [\"users\", \"user:{id}\"]`",
                ));
            } else if let Some(span) = parsed.tags.written_empty() {
                acc.push(
                    darling::Error::custom(
                        "`tags` must not be empty: list the tags this function invalidates, \
                         e.g. `tags = [\"users\", \"user:{id}\"]`",
                    )
                    .with_span(&span),
                );
            }
        }
        acc.finish()?;
        // `finish` returned `Ok`, so no error was recorded and `parsed` is `Some`.
        parsed.ok_or_else(|| {
            darling::Error::custom("`#[cache_invalidate]` arguments failed to parse")
        })
    }

    /// The tag literals (empty only when parsing failed).
    pub(crate) fn tags(&self) -> &[LitStr] {
        &self.tags
    }
}

/// `returns = ".."` of `#[cached_query]`, and where its value is written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WrittenReturns {
    pub(crate) policy: Returns,
    pub(crate) span: Span,
}

/// `returns` of `#[cached_query]`.
fn cached_returns(meta: &Meta) -> darling::Result<Option<WrittenReturns>> {
    let span = syn::spanned::Spanned::span(&shape::value_tokens(meta));
    let policy = forms::returns(
        meta,
        &[Returns::Result, Returns::Option, Returns::Value],
        |other| {
            format!(
                "unknown `returns` policy \"{other}\": expected \"result\" (cache only `Ok`), \
             \"option\" (cache only `Some`) or \"value\" (cache every value)"
            )
        },
    );
    Ok(policy?.map(|policy| WrittenReturns { policy, span }))
}

/// `returns` of `#[cache_invalidate]`: `"result"` or `"value"` (an `Option` gives no success to
/// wait for).
fn invalidate_returns(meta: &Meta) -> darling::Result<Option<Returns>> {
    forms::returns(meta, &[Returns::Result, Returns::Value], |other| {
        format!(
            "unknown `returns` value \"{other}\": expected \"result\" (invalidate only after \
             `Ok`) or \"value\" (invalidate after every return)"
        )
    })
}
