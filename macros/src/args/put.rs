//! `#[cache_put(get_user(db, id), ...)]`: the read calls whose entries the function's value
//! becomes, then the options (`crate = ..`, `returns = ..`).

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, Meta, Token};

use super::values::{CratePath, Returns};
use super::{forms, options_only};

/// The example every message about the read calls ends with.
pub(crate) const PUT_EXAMPLE: &str = "`#[cache_put(get_user(db, id))]`";

/// Parsed `#[cache_put(...)]` arguments.
#[derive(Debug)]
pub(crate) struct CachePutArgs {
    /// The read calls, as written (checked in `validate::put`).
    pub(crate) calls: Vec<Expr>,
    pub(crate) options: CachePutOptions,
}

/// The options after the read calls.
#[derive(Debug, Default, FromMeta)]
pub(crate) struct CachePutOptions {
    /// `crate = ::my_lib::cached_query`.
    #[darling(rename = "crate")]
    pub(crate) krate: Option<CratePath>,
    /// `returns = "result" | "option" | "value"`.
    #[darling(default, with = put_returns)]
    pub(crate) returns: Option<Returns>,
}

impl CachePutArgs {
    /// Parses the attribute's argument tokens: expressions are read calls, `name = value` and
    /// `name(..)` items are options.
    pub(crate) fn parse(args: TokenStream) -> darling::Result<Self> {
        let (calls, options) = split.parse2(args)?;
        let mut acc = darling::Error::accumulator();
        if calls.is_empty() {
            acc.push(darling::Error::custom(format!(
                "`#[cache_put]` needs the read call whose cached entry this function's value \
                 replaces: {PUT_EXAMPLE}"
            )));
        }
        let options = options_only(options, &mut acc);
        let options = acc
            .handle(CachePutOptions::from_list(&options))
            .unwrap_or_default();
        acc.finish_with(CachePutArgs { calls, options })
    }
}

/// The read calls and the option items, in the order written.
fn split(input: ParseStream<'_>) -> syn::Result<(Vec<Expr>, Vec<NestedMeta>)> {
    let mut calls = Vec::new();
    let mut options = Vec::new();
    while !input.is_empty() {
        let is_option = (input.peek(syn::Ident) || input.peek(Token![crate]))
            && input.peek2(Token![=])
            && !input.peek2(Token![==]);
        if is_option {
            let option = input.parse::<Meta>()?;
            if option.path().is_ident("crate") || option.path().is_ident("returns") {
                options.push(NestedMeta::Meta(option));
            } else {
                // `call = get_user(id)`: the read call, under a name it does not take.
                return Err(syn::Error::new_spanned(
                    option.path(),
                    format!(
                        "unknown option: `#[cache_put]` takes the read calls themselves, then \
                         `crate = ..` or `returns = \"..\"`: {PUT_EXAMPLE}"
                    ),
                ));
            }
        } else {
            calls.push(input.parse::<Expr>()?);
        }
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok((calls, options))
}

fn put_returns(meta: &Meta) -> darling::Result<Option<Returns>> {
    forms::returns(
        meta,
        &[Returns::Result, Returns::Option, Returns::Value],
        |other| {
            format!(
                "unknown `returns` value \"{other}\": expected \"result\" (store the `Ok` \
                 value), \"option\" (store the `Some` value) or \"value\" (store what the \
                 function returns)"
            )
        },
    )
}
