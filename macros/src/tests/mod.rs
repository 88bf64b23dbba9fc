//! Unit tests; panicking is how tests fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod batch;
mod invalidate;
mod parse;
mod put;
mod snapshots;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;

use crate::expand::{try_expand, try_expand_invalidate};

/// Every error message produced for `#[cached_query(#args)] #item`.
pub(super) fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
    match try_expand(args, item) {
        Ok(_) => Vec::new(),
        Err(err) => err.into_iter().map(|e| e.to_string()).collect(),
    }
}

pub(super) fn ok_fn() -> TokenStream {
    quote!(
        async fn get(id: u64) -> u64 {
            id
        }
    )
}

pub(super) fn assert_one(args: TokenStream, item: TokenStream, needle: &str) {
    let errs = errors(args, item);
    assert_eq!(errs.len(), 1, "expected one error, got {errs:#?}");
    assert!(
        errs[0].contains(needle),
        "`{}` does not contain `{needle}`",
        errs[0]
    );
}

/// Every error message produced for `#[cache_invalidate(#args)] #item`.
pub(super) fn invalidate_errors(args: TokenStream, item: TokenStream) -> Vec<String> {
    match try_expand_invalidate(args, item) {
        Ok(_) => Vec::new(),
        Err(err) => err.into_iter().map(|e| e.to_string()).collect(),
    }
}

pub(super) fn assert_one_invalidate(args: TokenStream, item: TokenStream, needle: &str) {
    let errs = invalidate_errors(args, item);
    assert_eq!(errs.len(), 1, "expected one error, got {errs:#?}");
    assert!(
        errs[0].contains(needle),
        "`{}` does not contain `{needle}`",
        errs[0]
    );
}
