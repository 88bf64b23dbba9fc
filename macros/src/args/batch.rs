//! The options of batch functions: `batch` / `batch(ids)` / `batch(ids as id)`, `max_batch`,
//! and `cache_none`, which a batch may turn off (`cache_none = false`).

use darling::{Error, Result};
use proc_macro2::{Ident, Span};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, Lit, Meta, Token};

use super::shape;

/// `batch`, `batch(ids)` or `batch(ids as id)`: which parameter is the batch, and the name its
/// items go by in tag placeholders.
#[derive(Debug, Clone)]
pub(crate) struct BatchOption {
    /// The `batch` word.
    pub(crate) span: Span,
    /// `ids` of `batch(ids)`: the batch parameter, if named.
    pub(crate) param: Option<Ident>,
    /// `id` of `batch(ids as id)`: the item's name, if given.
    pub(crate) item: Option<Ident>,
}

const FORMS: &str = "write `batch` (the one parameter in the key is the batch), `batch(ids)` (the \
                     batch parameter is `ids`) or `batch(ids as id)` (and `{id}` names each item \
                     in tags)";

struct Named {
    param: Ident,
    item: Option<Ident>,
}

impl Parse for Named {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        // `self` too, to answer it with its own message.
        let param = input.call(Ident::parse_any)?;
        let item = if input.parse::<Option<Token![as]>>()?.is_some() {
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Named { param, item })
    }
}

/// Reads `batch`.
pub(crate) fn batch(meta: &Meta) -> Result<Option<BatchOption>> {
    let span = meta.path().span();
    match meta {
        Meta::Path(_) => Ok(Some(BatchOption {
            span,
            param: None,
            item: None,
        })),
        Meta::List(list) => match syn::parse2::<Named>(list.tokens.clone()) {
            Ok(Named { param, item }) => Ok(Some(BatchOption {
                span,
                param: Some(param),
                item,
            })),
            Err(_) => Err(Error::custom(format!("`batch` names a parameter: {FORMS}"))
                .with_span(&list.tokens)),
        },
        Meta::NameValue(nv) => {
            let fix = match &nv.value {
                Expr::Path(path) => path
                    .path
                    .get_ident()
                    .map(|ident| format!("write `batch({ident})`")),
                Expr::Lit(lit) => match &lit.lit {
                    Lit::Str(s) => Some(format!("write `batch({})`", s.value())),
                    _ => None,
                },
                _ => None,
            };
            let msg = match fix {
                Some(fix) => format!("`batch` names its parameter in parentheses: {fix}"),
                None => format!("`batch` takes no value: {FORMS}"),
            };
            Err(Error::custom(msg).with_span(&nv.value))
        }
    }
}

/// `max_batch = 500`: how many items one merged body call takes at most.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MaxBatch {
    pub(crate) value: u32,
    pub(crate) span: Span,
}

/// Reads `max_batch`: a whole number from 1.
pub(crate) fn max_batch(meta: &Meta) -> Result<Option<MaxBatch>> {
    const WHAT: &str = "`max_batch` is how many items one merged body call takes at most, a whole \
                        number from 1 to 4294967295";
    let int = match meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(lit) => match &lit.lit {
                Lit::Int(int) if matches!(int.suffix(), "" | "u32" | "usize") => int,
                _ => return Err(shape::error(meta, "a whole number")),
            },
            _ => return Err(shape::error(meta, "a whole number")),
        },
        _ => return Err(shape::error(meta, "a whole number")),
    };
    match int.base10_parse::<u32>() {
        Ok(0) | Err(_) => {
            Err(Error::custom(format!("{WHAT}, e.g. `max_batch = 500`")).with_span(int))
        }
        Ok(value) => Ok(Some(MaxBatch {
            value,
            span: int.span(),
        })),
    }
}

/// `cache_none` as written: on (`cache_none`), or off (`cache_none = false`, which only a batch
/// function accepts: it caches absent items unless told not to).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CacheNone {
    written: Option<(Span, bool)>,
}

impl CacheNone {
    /// `cache_none` written as a flag.
    pub(crate) fn is_present(&self) -> bool {
        matches!(self.written, Some((_, true)))
    }

    /// Where `cache_none = false` was written, if it was.
    pub(crate) fn turned_off(&self) -> Option<Span> {
        match self.written {
            Some((span, false)) => Some(span),
            _ => None,
        }
    }

    /// Where the option was written.
    pub(crate) fn span(&self) -> Span {
        self.written.map_or_else(Span::call_site, |(span, _)| span)
    }
}

/// Reads `cache_none` (or `cache_none = false`).
pub(crate) fn cache_none(meta: &Meta) -> Result<CacheNone> {
    match meta {
        Meta::NameValue(nv) if is_false(&nv.value) => Ok(CacheNone {
            written: Some((nv.value.span(), false)),
        }),
        _ => super::forms::flag(meta).map(|flag| CacheNone {
            written: flag.is_present().then(|| (flag.span(), true)),
        }),
    }
}

fn is_false(expr: &Expr) -> bool {
    matches!(expr, Expr::Lit(lit) if matches!(&lit.lit, Lit::Bool(b) if !b.value))
}

/// The error for `cache_none = false` on a function that is not a batch (where not caching
/// `None` is the default), as for any other flag given a value.
pub(crate) fn cache_none_off_error(span: Span) -> Error {
    Error::custom(
        "`cache_none` is a flag: leave it out to turn it off, write `cache_none` to turn it on",
    )
    .with_span(&span)
}

impl super::CachedQueryArgs {
    /// `batch` against the other options: what only a batch takes, what a batch can't take.
    pub(super) fn check_batch(&self, acc: &mut darling::error::Accumulator) {
        if self.batch.is_none() {
            if let Some(span) = self.cache_none.turned_off() {
                acc.push(cache_none_off_error(span));
            }
            if let Some(merge) = &self.merge {
                acc.push(
                    Error::custom(
                        "`merge` merges concurrent calls of a batch function into one body call: \
                         make this function a batch, `#[cached_query(batch, merge = \"2ms\")]`",
                    )
                    .with_span(&merge.span),
                );
            } else if let Some(max) = &self.max_batch {
                acc.push(
                    Error::custom(
                        "`max_batch` bounds the batches `merge` builds: it applies to \
                         `#[cached_query(batch, merge = \"2ms\", max_batch = 500)]`",
                    )
                    .with_span(&max.span),
                );
            }
            return;
        }
        if let (Some(max), None) = (&self.max_batch, &self.merge) {
            acc.push(
                Error::custom(
                    "`max_batch` bounds the batches `merge` builds, and without `merge` each call \
                     runs the body with its own items: add `merge = \"2ms\"`, or remove it",
                )
                .with_span(&max.span),
            );
        }
        if let (Some(_), Some(none_ttl)) = (self.cache_none.turned_off(), &self.none_ttl) {
            acc.push(
                Error::custom(
                    "`none_ttl` is how long absent items stay cached, and `cache_none = false` \
                     caches none: remove one of them",
                )
                .with_span(&none_ttl.span),
            );
        }
        if let Some(returns) = self.returns.filter(|r| r.policy == super::Returns::Option) {
            acc.push(
                Error::custom(
                    "`returns = \"option\"` can't apply to a batch function: it returns a map, \
                     and the items its body does not find are left out of it; remove it \
                     (`returns = \"result\"` reads an alias of `Result`)",
                )
                .with_span(&returns.span),
            );
        }
        for (option, span, why) in self.not_for_batches() {
            acc.push(
                Error::custom(format!("`{option}` can't apply to a batch function: {why}"))
                    .with_span(&span),
            );
        }
    }

    /// The options a batch function can't take, where they are written, and why.
    fn not_for_batches(&self) -> Vec<(&'static str, Span, &'static str)> {
        let mut found = Vec::new();
        let duration = |d: &Option<super::Duration>| d.as_ref().map(|d| d.span);
        let code = |e: &Option<Expr>| e.as_ref().map(Spanned::span);
        let options = [
            (
                "stale_while_revalidate",
                duration(&self.stale_while_revalidate),
                "a batch call waits for the items it misses, and has no previous value to return \
                 at once while one background call recomputes it; remove it (each item expires at \
                 its `ttl`)",
            ),
            (
                "stale_if_error",
                duration(&self.stale_if_error),
                "the body's error is the whole batch's, not one item's, so no item's last value \
                 can stand in for it; remove it",
            ),
            (
                "early_refresh",
                self.early_refresh.map(|e| e.span),
                "an item is recomputed when a call misses it, together with the other items that \
                 call misses; remove it",
            ),
            (
                "result_tags",
                code(&self.result_tags),
                "tag each item with `tags`, whose placeholders may name the item \
                 (`tags = [\"user:{id}\"]`)",
            ),
            (
                "cache_err",
                code(&self.cache_err),
                "the body's error is the whole batch's, and is returned uncached; remove it",
            ),
            (
                "unless",
                code(&self.unless),
                "every item the body returns is cached; leave an item out of the map to have it \
                 cached as absent (or `cache_none = false` not to)",
            ),
            (
                "min_compute",
                duration(&self.min_compute),
                "the body's time is shared by all the items it computes; remove it",
            ),
        ];
        for (option, span, why) in options {
            if let Some(span) = span {
                found.push((option, span, why));
            }
        }
        found
    }
}
