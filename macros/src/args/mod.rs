//! The attributes' arguments: `#[cached_query(ttl = "5m", tags = [..], skip(..), ...)]` and
//! `#[cache_invalidate(tags = [..], before, ...)]`.
//!
//! Everything here is purely syntactic; checks against the function (do `skip` names exist, do
//! tag placeholders name parameters, does `cache_none` fit the return type) live in
//! `validate.rs`.

use darling::FromMeta;
use darling::ast::NestedMeta;
use darling::util::{Flag, PathList, SpannedValue};
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{Expr, Lit, LitStr, Meta};

mod duration;
mod shape;

pub(crate) use duration::Duration;
#[cfg(test)]
pub(crate) use duration::parse_duration;

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
    /// `tags = ["users", "user:{id}"]`.
    #[darling(default)]
    pub(crate) tags: Vec<LitStr>,
    /// `skip(db, self)`.
    #[darling(default)]
    pub(crate) skip: PathList,
    /// `version = 2`.
    pub(crate) version: Option<u32>,
    /// `name = "users.get"`.
    pub(crate) name: Option<LitStr>,
    /// `crate = ::my_lib::cached_query`.
    #[darling(rename = "crate")]
    pub(crate) krate: Option<CratePath>,
    /// `local`: keep values in process memory only.
    pub(crate) local: Flag,
    /// `store = "catalog"`: the named store the application configured for this function.
    pub(crate) store: Option<LitStr>,
    /// `returns = "result" | "option" | "value"`.
    pub(crate) returns: Option<Returns>,
    /// `cache_none`: also cache `None` (Option policy only).
    pub(crate) cache_none: Flag,
    /// `none_ttl = "30s"`: TTL of cached `None`s.
    pub(crate) none_ttl: Option<Duration>,
    /// `stale_if_error = "5m"`: how long after expiry the last `Ok` may stand in for an `Err`.
    pub(crate) stale_if_error: Option<Duration>,
    /// `condition = id > 0`: a `bool` expression over the parameters; `false` runs the call
    /// uncached.
    pub(crate) condition: Option<syn::Expr>,
    /// `unless = |r: &R| ...` or `unless = path::to::fn`: a result it accepts is not stored.
    pub(crate) unless: Option<syn::Expr>,
    /// `min_compute = "10ms"`: results computed faster than this are not stored.
    pub(crate) min_compute: Option<Duration>,
    /// `stale_while_revalidate = "1m"`: how long after expiry the value is still returned at
    /// once while a background call recomputes it.
    pub(crate) stale_while_revalidate: Option<Duration>,
    /// `early_refresh` or `early_refresh = 2.0`: probabilistic recomputation before expiry.
    pub(crate) early_refresh: Option<EarlyRefresh>,
    /// `result_tags = |value| ...` or a path: tags taken from the stored value.
    pub(crate) result_tags: Option<syn::Expr>,
    /// `cache_err = |e: &E| ...` or a path: errors it accepts are cached.
    pub(crate) cache_err: Option<syn::Expr>,
    /// `err_ttl = "30s"`: TTL of cached errors.
    pub(crate) err_ttl: Option<Duration>,
}

impl CachedQueryArgs {
    /// Parses the attribute's argument tokens, accumulating every error.
    pub(crate) fn parse(args: TokenStream) -> darling::Result<Self> {
        let items = NestedMeta::parse_meta_list(args)?;
        let mut acc = darling::Error::accumulator();
        let mut kept = Vec::with_capacity(items.len());
        for item in items {
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
        if let Some(none_ttl) = &self.none_ttl
            && !self.cache_none.is_present()
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

/// `early_refresh` (XFetch `beta` = 1) or `early_refresh = 2.5`: a positive, finite number.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EarlyRefresh {
    pub(crate) beta: f64,
}

const EARLY_REFRESH_FORMS: &str = "`early_refresh` takes no value (`early_refresh`) or a positive \
     number scaling how early entries are recomputed (`early_refresh = 2.0` refreshes earlier, \
     `early_refresh = 0.5` later; 1.0 by default)";

impl FromMeta for EarlyRefresh {
    fn from_word() -> darling::Result<Self> {
        Ok(Self { beta: 1.0 })
    }

    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        match expr {
            Expr::Lit(lit) => Self::from_value(&lit.lit),
            Expr::Group(group) => Self::from_expr(&group.expr),
            _ => Err(darling::Error::custom(EARLY_REFRESH_FORMS).with_span(expr)),
        }
    }

    fn from_value(value: &Lit) -> darling::Result<Self> {
        let beta = match value {
            Lit::Float(float) => float.base10_parse::<f64>().ok(),
            Lit::Int(int) => int.base10_parse::<u32>().ok().map(f64::from),
            _ => None,
        };
        match beta {
            Some(beta) if beta.is_finite() && beta > 0.0 => Ok(Self { beta }),
            _ => Err(darling::Error::custom(EARLY_REFRESH_FORMS).with_span(value)),
        }
    }
}

/// `crate = ::path::to::cached_query` or `crate = "::path::to::cached_query"`; must be absolute.
#[derive(Debug)]
pub(crate) struct CratePath(pub(crate) syn::Path);

impl FromMeta for CratePath {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        let path = match expr {
            Expr::Group(group) => return Self::from_expr(&group.expr),
            Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => p.path.clone(),
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => s
                .parse::<syn::Path>()
                .map_err(|_| darling::Error::custom(CRATE_FORMS).with_span(s))?,
            _ => return Err(darling::Error::custom(CRATE_FORMS).with_span(expr)),
        };
        let absolute = path.leading_colon.is_some()
            || path
                .segments
                .first()
                .is_some_and(|seg| seg.ident == "crate" || seg.ident == "$crate");
        if absolute {
            Ok(Self(path))
        } else {
            Err(darling::Error::custom(CRATE_FORMS).with_span(&path))
        }
    }

    fn from_meta(item: &Meta) -> darling::Result<Self> {
        match item {
            Meta::NameValue(nv) => Self::from_expr(&nv.value),
            _ => Err(darling::Error::custom(CRATE_FORMS).with_span(item)),
        }
    }
}

const CRATE_FORMS: &str = "`crate` must be an absolute path to the `cached-query` facade: \
     start it with `::` (e.g. `crate = ::my_lib::cached_query`), `crate` or `$crate`";

/// `returns = "result" | "option" | "value"`: how the return value is read. The one enum both
/// attributes parse into, and the policy `validate` decides (from the type when not written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Returns {
    /// Cache only `Ok` / invalidate only after `Ok`.
    Result,
    /// Cache only `Some` (and `None` with `cache_none`).
    Option,
    /// Cache every value / invalidate after every return.
    Value,
}

impl Returns {
    /// The runtime type implementing this policy.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Self::Result => "ResultPolicy",
            Self::Option => "OptionPolicy",
            Self::Value => "ValuePolicy",
        }
    }
}

impl FromMeta for Returns {
    fn from_string(value: &str) -> darling::Result<Self> {
        match value {
            "result" => Ok(Self::Result),
            "option" => Ok(Self::Option),
            "value" => Ok(Self::Value),
            other => Err(darling::Error::custom(format!(
                "unknown `returns` policy \"{other}\": expected \"result\" (cache only `Ok`), \"option\" (cache only `Some`) or \"value\" (cache every value)"
            ))),
        }
    }
}

/// `returns` of `#[cache_invalidate]`: `"result"` or `"value"` (an `Option` gives no success to
/// wait for).
fn invalidate_returns(meta: &Meta) -> darling::Result<Option<Returns>> {
    let unknown = |other: &str| {
        darling::Error::custom(format!(
            "unknown `returns` value \"{other}\": expected \"result\" (invalidate only after \
             `Ok`) or \"value\" (invalidate after every return)"
        ))
    };
    let value = String::from_meta(meta)?;
    match value.as_str() {
        "result" => Ok(Some(Returns::Result)),
        "value" => Ok(Some(Returns::Value)),
        other => Err(unknown(other).with_span(&value_of(meta))),
    }
}

/// The value of `name = value` (the whole item otherwise), to span an error on.
fn value_of(meta: &Meta) -> proc_macro2::TokenStream {
    match meta {
        Meta::NameValue(nv) => nv.value.to_token_stream(),
        other => other.to_token_stream(),
    }
}

/// Parsed `#[cache_invalidate(...)]` arguments.
#[derive(Debug, FromMeta)]
pub(crate) struct CacheInvalidateArgs {
    /// `tags = ["users", "user:{id}"]`: required and non-empty (checked in `parse`).
    pub(crate) tags: Option<SpannedValue<Vec<LitStr>>>,
    /// `before`: invalidate before the body runs, whatever it returns.
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
        let parsed = acc.handle(Self::from_list(&items));
        if let Some(parsed) = &parsed {
            match &parsed.tags {
                None => acc.push(darling::Error::custom(
                    "`#[cache_invalidate]` needs the tags to invalidate: add \
                     `tags = [\"users\", \"user:{id}\"]`",
                )),
                Some(tags) if tags.is_empty() => acc.push(
                    darling::Error::custom(
                        "`tags` must not be empty: list the tags this function invalidates, \
                         e.g. `tags = [\"users\", \"user:{id}\"]`",
                    )
                    .with_span(&tags.span()),
                ),
                Some(_) => {}
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
        self.tags.as_ref().map_or(&[], |tags| tags.as_slice())
    }
}
