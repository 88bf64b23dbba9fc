//! Code generation for both attributes, following `docs/expansion-contract.md` to the letter.

mod batch;
mod cached;
mod invalidate;
mod parts;
mod put;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Block;
use syn::parse::Parser;

use crate::args::{CacheInvalidateArgs, CachePutArgs, CachedQueryArgs};
use crate::error::{self, Errors};
use crate::input::{self, Input};
use crate::validate;

/// Entry point behind the `#[cached_query]` shim.
pub(crate) fn cached_query(args: TokenStream, item: TokenStream) -> TokenStream {
    try_expand(args, item.clone()).unwrap_or_else(|errors| error::fallback(errors, item))
}

/// Parses, validates and expands; `Err` holds every error found.
pub(crate) fn try_expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    pipeline(
        "`#[cached_query]`",
        args,
        item,
        CachedQueryArgs::parse,
        validate::validate,
        cached::body,
    )
}

/// Entry point behind the `#[cache_invalidate]` shim.
pub(crate) fn cache_invalidate(args: TokenStream, item: TokenStream) -> TokenStream {
    try_expand_invalidate(args, item.clone()).unwrap_or_else(|errors| error::fallback(errors, item))
}

/// Parses, validates and expands `#[cache_invalidate]`; `Err` holds every error found.
pub(crate) fn try_expand_invalidate(
    args: TokenStream,
    item: TokenStream,
) -> syn::Result<TokenStream> {
    pipeline(
        "`#[cache_invalidate]`",
        args,
        item,
        CacheInvalidateArgs::parse,
        validate::validate_invalidate,
        invalidate::body,
    )
}

/// Entry point behind the `#[cache_put]` shim.
pub(crate) fn cache_put(args: TokenStream, item: TokenStream) -> TokenStream {
    try_expand_put(args, item.clone()).unwrap_or_else(|errors| error::fallback(errors, item))
}

/// Parses, validates and expands `#[cache_put]`; `Err` holds every error found.
pub(crate) fn try_expand_put(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    pipeline(
        "`#[cache_put]`",
        args,
        item,
        CachePutArgs::parse,
        validate::validate_put,
        put::body,
    )
}

/// The pipeline the attributes share: the arguments and the function are parsed (errors
/// accumulated), validated into a plan, and the body's statements are replaced in place by
/// `body`'s (keeping the user's attributes, signature, brace token and inner attributes).
fn pipeline<A, P>(
    attribute: &str,
    args: TokenStream,
    item: TokenStream,
    parse_args: fn(TokenStream) -> darling::Result<A>,
    validate: fn(Option<&A>, &Input, &mut Errors) -> Option<P>,
    body: fn(&[syn::Stmt], &P) -> TokenStream,
) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = parse_args(args).map_err(|e| errors.push_darling(e)).ok();
    let input = input::parse(item, attribute)
        .map_err(|e| errors.push(e))
        .ok();
    let plan = input
        .as_ref()
        .and_then(|input| validate(args.as_ref(), input, &mut errors));
    errors.finish()?;
    match (input, plan) {
        (Some(Input::Fn(mut input)), Some(plan)) => {
            let user_stmts = std::mem::take(&mut input.item.block.stmts);
            input.item.block.stmts = Block::parse_within.parse2(body(&user_stmts, &plan))?;
            let item = &input.item;
            Ok(quote!(#item))
        }
        // Validation returns no plan only after recording an error.
        _ => Err(syn::Error::new(
            Span::call_site(),
            format!("{attribute} failed to expand this function (this is a bug in `cached-query`)"),
        )),
    }
}
