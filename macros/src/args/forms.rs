//! Readers for the options whose value has a fixed shape: flags, strings, lists, expressions,
//! numbers. Each answers a value of the wrong shape with the right one, using the option's own
//! example (and the user's own tokens where they can be reused), never darling's vocabulary.

use darling::ast::NestedMeta;
use darling::util::Flag;
use darling::{Error, FromMeta, Result};
use proc_macro2::Span;
use quote::ToTokens;
use std::ops::Deref;
use syn::spanned::Spanned;
use syn::{Expr, Lit, LitStr, Meta};

use super::Returns;
use super::shape::{self, option_name};

/// `local`, `cache_none`, `before`: a bare word.
pub(crate) fn flag(meta: &Meta) -> Result<Flag> {
    match meta {
        Meta::Path(_) => Flag::from_meta(meta),
        Meta::NameValue(nv) if is_false(&nv.value) => {
            let name = option_name(meta);
            Err(Error::custom(format!(
                "`{name}` is a flag: leave it out to turn it off, write `{name}` to turn it on"
            ))
            .with_span(&nv.value))
        }
        _ => {
            let name = option_name(meta);
            Err(Error::custom(format!("`{name}` is a flag: write `{name}`"))
                .with_span(&shape::value_tokens(meta)))
        }
    }
}

fn is_false(expr: &Expr) -> bool {
    matches!(expr, Expr::Lit(lit) if matches!(&lit.lit, Lit::Bool(b) if !b.value))
}

/// `name = "users.get"`, `store = "catalog"`: a string literal.
pub(crate) fn string(meta: &Meta) -> Result<Option<LitStr>> {
    match string_value(meta) {
        Some(lit) => Ok(Some(lit.clone())),
        None => Err(shape::error(meta, "a string")),
    }
}

fn string_value(meta: &Meta) -> Option<&LitStr> {
    match meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(lit) => match &lit.lit {
                Lit::Str(s) => Some(s),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// `condition = id > 0`, `unless = ...`, `result_tags = ...`, `cache_err = ...`: an expression.
pub(crate) fn code(meta: &Meta) -> Result<Option<Expr>> {
    match meta {
        Meta::NameValue(nv) => Ok(Some(nv.value.clone())),
        _ => Err(shape::error(meta, "an expression")),
    }
}

/// `version = 2`: a whole number, part of the key.
pub(crate) fn version(meta: &Meta) -> Result<Option<u32>> {
    const WHAT: &str = "a version is a whole number from 0 to 4294967295, folded into the key: \
                        bump it when the function's results change meaning, and the entries of \
                        older versions are never read again";
    let Meta::NameValue(nv) = meta else {
        return Err(shape::error(meta, "a whole number"));
    };
    let int = match &nv.value {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Int(int) => int,
            _ => return Err(shape::error(meta, "a whole number")),
        },
        Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Neg(_)) => {
            return Err(
                Error::custom(format!("`version` can't be negative: {WHAT}")).with_span(&nv.value),
            );
        }
        _ => return Err(shape::error(meta, "a whole number")),
    };
    if int.base10_digits().starts_with('-') {
        return Err(Error::custom(format!("`version` can't be negative: {WHAT}")).with_span(int));
    }
    if !matches!(int.suffix(), "" | "u32") {
        return Err(shape::error(meta, "a whole number without a suffix"));
    }
    int.base10_digits().parse::<u32>().map(Some).map_err(|_| {
        Error::custom(format!("`version = {int}` is too large: {WHAT}")).with_span(int)
    })
}

/// The tag literals, and where they were written (`None`: the option is absent).
#[derive(Debug, Default)]
pub(crate) struct Tags {
    lits: Vec<LitStr>,
    written: Option<Span>,
}

impl Deref for Tags {
    type Target = Vec<LitStr>;
    fn deref(&self) -> &Vec<LitStr> {
        &self.lits
    }
}

impl Tags {
    /// Whether `tags = ...` was written.
    pub(crate) fn is_written(&self) -> bool {
        self.written.is_some()
    }

    /// Where `tags = []` was written, if it was.
    pub(crate) fn written_empty(&self) -> Option<Span> {
        self.written.filter(|_| self.lits.is_empty())
    }
}

/// `tags = ["users", "user:{id}"]` (or `tags("users", ...)`): string literals, read when the
/// function is compiled.
pub(crate) fn tag_list(meta: &Meta) -> Result<Tags> {
    let span = shape::value_tokens(meta).span();
    let lits = match meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Array(array) => collect(array.elems.iter().map(tag))?,
            Expr::Lit(lit) if matches!(lit.lit, Lit::Str(_)) => {
                let text = lit.to_token_stream();
                return Err(Error::custom(format!(
                    "`tags` takes a list, even of one tag: write `tags = [{text}]`"
                ))
                .with_span(&nv.value));
            }
            _ => return Err(shape::error(meta, "a list of strings")),
        },
        Meta::List(list) => {
            let items = NestedMeta::parse_meta_list(list.tokens.clone())?;
            collect(items.iter().map(|item| match item {
                NestedMeta::Lit(Lit::Str(s)) => Ok(s.clone()),
                NestedMeta::Meta(Meta::Path(path)) => Err(constant(path)),
                other => Err(not_a_string(other)),
            }))?
        }
        Meta::Path(_) => return Err(shape::error(meta, "a list of strings")),
    };
    Ok(Tags {
        lits,
        written: Some(span),
    })
}

/// Every item, or every error.
fn collect<T>(items: impl Iterator<Item = Result<T>>) -> Result<Vec<T>> {
    let mut errors = Error::accumulator();
    let items = items.filter_map(|item| errors.handle(item)).collect();
    errors.finish_with(items)
}

fn tag(elem: &Expr) -> Result<LitStr> {
    match elem {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(s) => Ok(s.clone()),
            _ => Err(not_a_string(elem)),
        },
        Expr::Path(path) => Err(constant(path)),
        Expr::Group(group) => tag(&group.expr),
        _ => Err(not_a_string(elem)),
    }
}

fn constant<T: ToTokens>(path: &T) -> Error {
    let name = path.to_token_stream().to_string().replace(' ', "");
    Error::custom(format!(
        "tags must be string literals, and `{name}` is a constant: `#[cached_query]` reads the \
         tags when the function is compiled, to check each `{{placeholder}}` against its \
         parameters, before any constant has a value; write the text, e.g. `\"users\"`, or take \
         tags from the computed value with `result_tags`"
    ))
    .with_span(path)
}

fn not_a_string<T: ToTokens>(elem: &T) -> Error {
    Error::custom(
        "each tag is a string literal: `\"users\"`, or a template such as `\"user:{id}\"` whose \
         `{placeholders}` name parameters",
    )
    .with_span(elem)
}

/// `skip(db, self)`: parameter names in parentheses.
pub(crate) fn skip(meta: &Meta) -> Result<Vec<syn::Path>> {
    match meta {
        Meta::List(list) => {
            let items = NestedMeta::parse_meta_list(list.tokens.clone())?;
            collect(items.iter().map(|item| {
                match item {
                    NestedMeta::Meta(Meta::Path(path)) => Ok(path.clone()),
                    NestedMeta::Lit(Lit::Str(s)) => Err(Error::custom(format!(
                        "`skip` names parameters, not strings: write `skip({})`",
                        s.value()
                    ))
                    .with_span(s)),
                    other => Err(Error::custom(
                        "`skip` lists parameter names: write `skip(db)` or `skip(db, self)`",
                    )
                    .with_span(other)),
                }
            }))
        }
        Meta::NameValue(nv) => {
            let names = match &nv.value {
                Expr::Array(array) => array.elems.iter().map(unquoted).collect::<Vec<_>>(),
                other => vec![unquoted(other)],
            };
            Err(Error::custom(format!(
                "`skip` lists parameters in parentheses: write `skip({})`",
                names.join(", ")
            ))
            .with_span(&nv.value))
        }
        Meta::Path(_) => Err(Error::custom(
            "`skip` lists the parameters to leave out of the key: write `skip(db)` or \
             `skip(db, self)`",
        )
        .with_span(meta)),
    }
}

/// A parameter name as the user wrote it, without quotes.
fn unquoted(expr: &Expr) -> String {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(s) => s.value(),
            other => other.to_token_stream().to_string(),
        },
        other => other.to_token_stream().to_string().replace(' ', ""),
    }
}

/// `returns = "result"`, the choices depending on the attribute; `unknown` words the error for
/// any other string.
pub(crate) fn returns(
    meta: &Meta,
    choices: &[Returns],
    unknown: impl Fn(&str) -> String,
) -> Result<Option<Returns>> {
    let lit = match meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(lit) => match &lit.lit {
                Lit::Str(s) => s,
                _ => return Err(shape::error(meta, "a string")),
            },
            // `returns = result`: the word is right, the quotes are missing.
            Expr::Path(path) => {
                let word = path.to_token_stream().to_string();
                let known = choices.iter().any(|r| r.word() == word);
                let fix = if known { word } else { "result".to_owned() };
                return Err(Error::custom(format!(
                    "`returns` takes a string: write `returns = \"{fix}\"`"
                ))
                .with_span(&nv.value));
            }
            _ => return Err(shape::error(meta, "a string")),
        },
        _ => return Err(shape::error(meta, "a string")),
    };
    let value = lit.value();
    choices
        .iter()
        .find(|r| r.word() == value)
        .map(|r| Some(*r))
        .ok_or_else(|| Error::custom(unknown(&value)).with_span(lit))
}
