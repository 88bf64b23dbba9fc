//! `#[cache_put]` unit tests: its read calls, options and function checks; `"forever"`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{errors, ok_fn};
use crate::args::{CachePutArgs, Returns, parse_duration};
use crate::expand::try_expand_put;

fn put_errors(args: TokenStream, item: TokenStream) -> Vec<String> {
    match try_expand_put(args, item) {
        Ok(_) => Vec::new(),
        Err(err) => err.into_iter().map(|e| e.to_string()).collect(),
    }
}

fn assert_one_put(args: TokenStream, item: TokenStream, needle: &str) {
    let errs = put_errors(args, item);
    assert_eq!(errs.len(), 1, "expected one error, got {errs:#?}");
    assert!(
        errs[0].contains(needle),
        "`{}` does not contain `{needle}`",
        errs[0]
    );
}

#[test]
fn read_calls_then_options() {
    let Ok(args) = CachePutArgs::parse(quote!(
        get_user(db, id),
        self.by_email(&email),
        crate = ::my::cached_query,
        returns = "option",
    )) else {
        panic!()
    };
    assert_eq!(args.calls.len(), 2);
    assert_eq!(args.options.returns, Some(Returns::Option));
    assert!(args.options.krate.is_some());
}

#[test]
fn put_errors_point_at_the_fix() {
    let f = ok_fn();
    assert_one_put(quote!(), f.clone(), "needs the read call");
    assert_one_put(quote!(returns = "value"), f.clone(), "needs the read call");
    assert_one_put(quote!(get), f.clone(), "with its arguments");
    assert_one_put(quote!(get(id).await), f.clone(), "remove `.await`");
    assert_one_put(quote!(call = get(id)), f.clone(), "unknown option");
    assert_one_put(quote!("get(id)"), f.clone(), "expected the call");
    assert_one_put(
        quote!(get(id), returns = "maybe"),
        f.clone(),
        "\"option\" (store the `Some` value)",
    );
    assert_one_put(
        quote!(get(id)),
        quote!(
            fn get(id: u64) -> u64 {
                id
            }
        ),
        "`async` keyword is missing",
    );
    assert_one_put(
        quote!(get(id)),
        quote!(
            async fn set(id: u64) {}
        ),
        "returns `()`",
    );
    assert!(put_errors(quote!(get(id), returns = "value"), f).is_empty());
}

#[test]
fn forever_is_a_ttl() {
    assert_eq!(parse_duration("forever"), Ok(u64::MAX));
    assert!(errors(quote!(ttl = "forever"), ok_fn()).is_empty());
    assert!(
        errors(
            quote!(ttl = forever, cache_none, none_ttl = "forever"),
            quote!(
                async fn get(id: u64) -> Option<u64> {
                    Some(id)
                }
            )
        )
        .is_empty()
    );
    let errs = errors(quote!(stale_if_error = "forever"), ok_fn());
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].contains("takes a finite duration"), "{}", errs[0]);
    assert!(parse_duration("forevermore").is_err());
}
