//! Parser and validation unit tests: error counts and messages.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

use crate::args::{CachedQueryArgs, Returns, parse_duration};
use crate::expand::try_expand;

/// Every error message produced for `#[cached_query(#args)] #item`.
fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
    match try_expand(args, item) {
        Ok(_) => Vec::new(),
        Err(err) => err.into_iter().map(|e| e.to_string()).collect(),
    }
}

fn krate(args: &CachedQueryArgs) -> String {
    args.krate
        .as_ref()
        .map(|k| k.0.to_token_stream().to_string())
        .unwrap_or_default()
}

fn ok_fn() -> TokenStream {
    quote!(
        async fn get(id: u64) -> u64 {
            id
        }
    )
}

fn assert_one(args: TokenStream, item: TokenStream, needle: &str) {
    let errs = errors(args, item);
    assert_eq!(errs.len(), 1, "expected one error, got {errs:#?}");
    assert!(
        errs[0].contains(needle),
        "`{}` does not contain `{needle}`",
        errs[0]
    );
}

#[test]
fn full_option_set_parses() {
    let args = CachedQueryArgs::parse(quote!(
        ttl = "1h30m",
        tags = ["users", "user:{id}"],
        skip(db, self),
        version = 3,
        name = "users.get",
        crate = ::my::cached_query,
        local,
        returns = "option",
        cache_none,
        none_ttl = 30,
    ));
    let Ok(args) = args else { panic!("{args:?}") };
    assert_eq!(args.ttl.map(|d| d.millis), Some(5_400_000));
    assert_eq!(args.none_ttl.map(|d| d.millis), Some(30_000));
    assert_eq!(args.tags.len(), 2);
    assert_eq!(args.skip.len(), 2);
    assert_eq!(args.version, Some(3));
    assert!(args.local.is_present() && args.cache_none.is_present());
    assert_eq!(args.returns, Some(Returns::Option));
    assert_eq!(krate(&args), ":: my :: cached_query");
}

#[test]
fn list_form_of_tags_and_string_crate() {
    let Ok(args) = CachedQueryArgs::parse(quote!(tags("a", "b"), crate = "::x::cached_query"))
    else {
        panic!()
    };
    assert_eq!(args.tags.len(), 2);
    assert_eq!(krate(&args), ":: x :: cached_query");
    assert!(args.ttl.is_none());
}

#[test]
fn durations() {
    assert_eq!(parse_duration("150ms"), Ok(150));
    assert_eq!(parse_duration("30s"), Ok(30_000));
    assert_eq!(parse_duration("5m"), Ok(300_000));
    assert_eq!(parse_duration("2h"), Ok(7_200_000));
    assert_eq!(parse_duration("1d"), Ok(86_400_000));
    assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
    for bad in [
        "",
        "60",
        "5 m",
        "5w",
        "m",
        "99999999999999999999s",
        "1h 30m",
        "-1s",
    ] {
        assert!(parse_duration(bad).is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn ttl_errors() {
    assert_one(quote!(ttl = 0), ok_fn(), "greater than zero");
    assert_one(quote!(ttl = "0s"), ok_fn(), "greater than zero");
    assert_one(quote!(ttl = "5w"), ok_fn(), "unknown unit `w`");
    assert_one(quote!(ttl = ""), ok_fn(), "empty");
    assert_one(quote!(ttl = 18446744073709551615), ok_fn(), "too large");
    assert_one(quote!(ttl = -1), ok_fn(), "integer seconds");
}

#[test]
fn unknown_duplicate_and_renamed_options() {
    assert_one(quote!(tag = ["a"]), ok_fn(), "Did you mean `tags`?");
    assert_one(quote!(tll = 60), ok_fn(), "Unknown field: `tll`");
    assert_one(quote!(ttl = 1, ttl = 2), ok_fn(), "Duplicate field `ttl`");
    assert_one(quote!(ttl_secs = 60), ok_fn(), "use `ttl = ...`");
    assert_one(quote!(expire = 60), ok_fn(), "use `ttl = ...`");
    assert_one(
        quote!(key = "x"),
        ok_fn(),
        "derived from the function's arguments",
    );
    assert_one(quote!(max_size = 10), ok_fn(), "configured at start-up");
    assert_one(quote!(sync_writes), ok_fn(), "single-flight");
}

#[test]
fn other_option_errors() {
    assert_one(quote!(name = ""), ok_fn(), "`name` must not be empty");
    assert_one(quote!(crate = cached_query), ok_fn(), "absolute path");
    assert_one(quote!(crate = "my::cached_query"), ok_fn(), "absolute path");
    assert_one(quote!(returns = "maybe"), ok_fn(), "\"result\"");
    assert_one(
        quote!(cache_none),
        ok_fn(),
        "only applies to functions returning `Option`",
    );
    assert_one(quote!(none_ttl = 5), ok_fn(), "requires `cache_none`");
    assert!(errors(quote!(crate = crate::cq), ok_fn()).is_empty());
    let option_fn = quote!(
        async fn f(id: u64) -> Option<u64> {
            Some(id)
        }
    );
    assert!(errors(quote!(cache_none, none_ttl = "1m"), option_fn).is_empty());
    assert!(errors(quote!(cache_none, returns = "option"), ok_fn()).is_empty());
}

#[test]
fn errors_are_accumulated() {
    // two unknown options, a bad ttl, a renamed option; the fn checks still run.
    let errs = errors(
        quote!(tll = 60, skipp(db), ttl = "5w", size = 3),
        quote!(
            fn get(id: u64) {}
        ),
    );
    assert_eq!(errs.len(), 6, "{errs:#?}");
}

#[test]
fn function_shape_errors() {
    assert_one(
        quote!(),
        quote!(
            fn f() -> u8 {
                1
            }
        ),
        "the `async` keyword is missing",
    );
    assert_one(
        quote!(),
        quote!(
            const fn f() -> u8 {
                1
            }
        ),
        "`const fn`",
    );
    assert_one(
        quote!(),
        quote!(
            async fn f() {}
        ),
        "nothing to cache",
    );
    assert_one(
        quote!(),
        quote!(
            async fn f() -> () {}
        ),
        "nothing to cache",
    );
    assert_one(
        quote!(),
        quote!(
            async fn f(&self) -> u8;
        ),
        "needs a function body",
    );
    assert_one(
        quote!(),
        quote!(
            async fn f() -> Result<impl Display, E> {
                todo!()
            }
        ),
        "`impl Trait`",
    );
    assert_one(
        quote!(),
        quote!(
            async fn f() -> &'static str {
                ""
            }
        ),
        "own their data",
    );
    assert_one(
        quote!(),
        quote!(
            async fn f<'a>() -> Cow<'a, str> {
                todo!()
            }
        ),
        "own their data",
    );
    assert!(
        errors(
            quote!(),
            quote!(
                async fn f() -> Cow<'static, str> {
                    todo!()
                }
            )
        )
        .is_empty()
    );
}

#[test]
fn skip_errors() {
    let method = quote!(
        async fn f(&self, (a, b): (u8, u8), Point { x, .. }: Point, _: u8) -> u8 {
            a
        }
    );
    assert!(errors(quote!(skip(self, a, b, x)), method.clone()).is_empty());
    assert_one(
        quote!(skip(c)),
        method.clone(),
        "no parameter named `c` to skip",
    );
    assert_one(quote!(skip(a, a)), method, "`a` is already skipped");
    assert_one(quote!(skip(self)), ok_fn(), "no parameter named `self`");
}

#[test]
fn tag_errors() {
    let f = quote!(
        async fn f(&self, db: &Db, user: User) -> u8 {
            1
        }
    );
    assert!(
        errors(
            quote!(tags = ["{{lit}}", "u:{user.org_id}:{self.id}", "t:{user.0}"]),
            f.clone()
        )
        .is_empty()
    );
    assert_one(
        quote!(tags = ["{id}"]),
        f.clone(),
        "doesn't name a parameter",
    );
    assert_one(
        quote!(tags = ["{db}"], skip(db)),
        f.clone(),
        "excluded from the cache key",
    );
    assert_one(quote!(tags = ["a{user"]), f.clone(), "unclosed `{`");
    assert_one(quote!(tags = ["a}"]), f.clone(), "unmatched `}`");
    assert_one(quote!(tags = ["a{}"]), f.clone(), "empty placeholder");
    assert_one(
        quote!(tags = ["{user:?}"]),
        f.clone(),
        "format specs are not supported",
    );
    assert_one(
        quote!(tags = ["{user-id}"]),
        f.clone(),
        "invalid placeholder",
    );
    assert_one(quote!(tags = [""]), f, "must not be empty");
    assert_one(quote!(tags = ["{self.id}"]), ok_fn(), "no `self` receiver");
}

/// Every error message produced for `#[cache_invalidate(#args)] #item`.
fn invalidate_errors(args: TokenStream, item: TokenStream) -> Vec<String> {
    match crate::expand::try_expand_invalidate(args, item) {
        Ok(_) => Vec::new(),
        Err(err) => err.into_iter().map(|e| e.to_string()).collect(),
    }
}

fn assert_one_invalidate(args: TokenStream, item: TokenStream, needle: &str) {
    let errs = invalidate_errors(args, item);
    assert_eq!(errs.len(), 1, "expected one error, got {errs:#?}");
    assert!(
        errs[0].contains(needle),
        "`{}` does not contain `{needle}`",
        errs[0]
    );
}

#[test]
fn invalidate_options() {
    use crate::args::{CacheInvalidateArgs, InvalidateReturns};
    let Ok(args) = CacheInvalidateArgs::parse(quote!(
        tags = ["users", "user:{id}"],
        before,
        crate = ::my::cached_query,
        returns = "value",
    )) else {
        panic!()
    };
    assert_eq!(args.tags().len(), 2);
    assert!(args.before.is_present());
    assert_eq!(args.returns, Some(InvalidateReturns::Value));

    let f = ok_fn();
    assert_one_invalidate(quote!(), f.clone(), "needs the tags to invalidate");
    assert_one_invalidate(quote!(tags = []), f.clone(), "`tags` must not be empty");
    assert_one_invalidate(quote!(tags = [""]), f.clone(), "a tag must not be empty");
    assert_one_invalidate(
        quote!(tags = ["a"], ttl = 1),
        f.clone(),
        "Unknown field: `ttl`",
    );
    assert_one_invalidate(
        quote!(tags = ["a"], tags = ["b"]),
        f.clone(),
        "Duplicate field `tags`",
    );
    assert_one_invalidate(
        quote!(tags = ["a"], returns = "option"),
        f.clone(),
        "\"result\" (invalidate only after `Ok`)",
    );
    assert_one_invalidate(
        quote!(tags = ["a"], crate = cached_query),
        f.clone(),
        "absolute path",
    );
    assert!(invalidate_errors(quote!(tags = ["{id}"], before), f).is_empty());
}

#[test]
fn invalidate_function_errors() {
    let tags = quote!(tags = ["users"]);
    assert_one_invalidate(
        tags.clone(),
        quote!(
            fn f() {}
        ),
        "`#[cache_invalidate]` only applies to `async fn`s",
    );
    assert_one_invalidate(
        tags.clone(),
        quote!(
            const fn f() {}
        ),
        "`const fn`",
    );
    assert_one_invalidate(
        tags.clone(),
        quote!(
            async fn f(&self) -> Result<(), E>;
        ),
        "needs a function body",
    );
    // Unit, `impl Trait` and borrowed returns are fine: nothing is stored.
    for item in [
        quote!(
            async fn f() {}
        ),
        quote!(
            async fn f(&self) -> &str {
                &self.name
            }
        ),
        quote!(
            async fn f() -> Result<impl Display, E> {
                Ok(1)
            }
        ),
    ] {
        assert!(invalidate_errors(tags.clone(), item).is_empty());
    }
}

#[test]
fn invalidate_tag_errors() {
    // No `skip`: every binding, `self` included, may be a placeholder root.
    let f = quote!(
        async fn f(&self, db: &Db, (a, b): (u8, u8), user: User) -> Result<(), E> {
            Ok(())
        }
    );
    assert!(
        invalidate_errors(
            quote!(tags = ["{{lit}}", "u:{user.org_id}:{self.id}", "{db}:{a}:{b}"]),
            f.clone()
        )
        .is_empty()
    );
    assert_one_invalidate(
        quote!(tags = ["{id}"]),
        f.clone(),
        "doesn't name a parameter",
    );
    assert_one_invalidate(quote!(tags = ["a{user"]), f.clone(), "unclosed `{`");
    assert_one_invalidate(
        quote!(tags = ["{user:?}"]),
        f,
        "format specs are not supported",
    );
    assert_one_invalidate(quote!(tags = ["{self.id}"]), ok_fn(), "no `self` receiver");
    // Errors in the arguments and in the function are all reported.
    let errs = invalidate_errors(
        quote!(tags = ["{nope}"], bogus),
        quote!(
            fn f(id: u64) {}
        ),
    );
    assert_eq!(errs.len(), 2, "{errs:#?}");
}

#[test]
fn stale_while_revalidate_needs_owned_arguments() {
    let swr = quote!(stale_while_revalidate = "1m");
    assert_one(
        swr.clone(),
        quote!(
            async fn f(db: &Pool, id: u64) -> u8 {
                0
            }
        ),
        "every argument must be owned, and this one borrows",
    );
    assert_one(
        swr.clone(),
        quote!(
            async fn f(&self, id: u64) -> u8 {
                0
            }
        ),
        "`self: Arc<Self>`",
    );
    assert_one(
        swr.clone(),
        quote!(
            async fn f(self: Pin<&mut Self>) -> u8 {
                0
            }
        ),
        "`self: Arc<Self>`",
    );
    assert_one(
        swr.clone(),
        quote!(
            async fn f<'a>(name: Cow<'a, str>) -> u8 {
                0
            }
        ),
        "this one borrows",
    );
    // Two borrowed parameters: two errors.
    let both = errors(
        swr.clone(),
        quote!(
            async fn f(a: &str, b: &[u8]) -> u8 {
                0
            }
        ),
    );
    assert_eq!(both.len(), 2, "{both:?}");
    // Owned, `'static` references and by-value or `Arc` receivers are fine.
    for item in [
        quote!(
            async fn f(db: Arc<Pool>, id: u64, name: &'static str) -> u8 {
                0
            }
        ),
        quote!(
            async fn f(self: Arc<Self>, id: u64) -> u8 {
                0
            }
        ),
        quote!(
            async fn f(self, id: u64) -> u8 {
                0
            }
        ),
        quote!(
            async fn f(&'static self) -> u8 {
                0
            }
        ),
    ] {
        assert!(errors(swr.clone(), item).is_empty());
    }
    // Without the option, borrowing is fine.
    assert!(
        errors(
            quote!(ttl = 5),
            quote!(
                async fn f(db: &Pool) -> u8 {
                    0
                }
            )
        )
        .is_empty()
    );
    assert_one(
        quote!(stale_while_revalidate = "soon"),
        ok_fn(),
        "invalid duration",
    );
}

#[test]
fn early_refresh_forms() {
    assert!(errors(quote!(early_refresh), ok_fn()).is_empty());
    assert!(errors(quote!(early_refresh = 2.5), ok_fn()).is_empty());
    assert!(errors(quote!(early_refresh = 2), ok_fn()).is_empty());
    for bad in [
        quote!(early_refresh = 0),
        quote!(early_refresh = 0.0),
        quote!(early_refresh = "fast"),
        quote!(early_refresh = -1.0),
    ] {
        assert_one(bad, ok_fn(), "`early_refresh` takes no value");
    }
}

#[test]
fn cache_err_and_result_tags_checks() {
    let result_fn = quote!(
        async fn f(id: u64) -> Result<u64, E> {
            Ok(id)
        }
    );
    assert!(
        errors(
            quote!(cache_err = |_| true, err_ttl = "30s"),
            result_fn.clone()
        )
        .is_empty()
    );
    assert!(errors(quote!(result_tags = tags_of), result_fn.clone()).is_empty());
    assert_one(
        quote!(err_ttl = "30s"),
        result_fn,
        "`err_ttl` requires `cache_err`",
    );
    assert_one(
        quote!(cache_err = |_| true),
        ok_fn(),
        "`cache_err` only applies to functions returning `Result`",
    );
    assert!(errors(quote!(cache_err = |_| true, returns = "result"), ok_fn()).is_empty());
}
