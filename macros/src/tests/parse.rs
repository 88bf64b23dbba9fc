//! Parser unit tests: the options, their forms and their error messages.

use quote::{ToTokens, quote};

use super::{assert_one, errors, ok_fn};
use crate::args::{CachedQueryArgs, Returns, parse_duration};

fn krate(args: &CachedQueryArgs) -> String {
    args.krate
        .as_ref()
        .map(|k| k.0.to_token_stream().to_string())
        .unwrap_or_default()
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
    assert_eq!(args.returns.map(|r| r.policy), Some(Returns::Option));
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
fn unquoted_durations_keep_their_unit() {
    let args = CachedQueryArgs::parse(quote!(
        ttl = 100ms,
        cache_none,
        none_ttl = 1h30m,
        stale_if_error = 5m,
        min_compute = 5ms,
        stale_while_revalidate = 2d,
        cache_err = |_| true,
        err_ttl = 30s,
    ));
    let Ok(args) = args else { panic!("{args:?}") };
    assert_eq!(args.ttl.map(|d| d.millis), Some(100));
    assert_eq!(args.none_ttl.map(|d| d.millis), Some(5_400_000));
    assert_eq!(args.stale_if_error.map(|d| d.millis), Some(300_000));
    assert_eq!(args.min_compute.map(|d| d.millis), Some(5));
    assert_eq!(
        args.stale_while_revalidate.map(|d| d.millis),
        Some(172_800_000)
    );
    assert_eq!(args.err_ttl.map(|d| d.millis), Some(30_000));
    assert_eq!(parse_duration("100ms"), Ok(100));
}

#[test]
fn durations_that_would_be_misread_are_refused() {
    assert_one(quote!(ttl = 60u64), ok_fn(), "no type suffix; write `60`");
    assert_one(quote!(ttl = 5w), ok_fn(), "unknown unit `w`");
    assert_one(
        quote!(ttl = 1.5),
        ok_fn(),
        "write `\"1s500ms\"` instead of `1.5`",
    );
    assert_one(
        quote!(ttl = 1.5h),
        ok_fn(),
        "write `\"1h30m\"` instead of `1.5h`",
    );
    assert_one(quote!(ttl = 0.0001), ok_fn(), "not a fraction");
    assert_one(quote!(ttl = -1), ok_fn(), "must be positive");
    assert_one(quote!(ttl = -5m), ok_fn(), "must be positive");
    assert_one(quote!(min_compute = 0ms), ok_fn(), "greater than zero");
    assert_one(
        quote!(ttl),
        ok_fn(),
        "`ttl` takes a duration: write `ttl = \"5m\"`",
    );
    assert_one(
        quote!(none_ttl(30)),
        ok_fn(),
        "`none_ttl` takes a duration: write `none_ttl = \"30s\"`",
    );
}

#[test]
fn option_shapes_are_explained_with_the_option_s_example() {
    let cases = [
        (quote!(tags = "users"), "write `tags = [\"users\"]`"),
        (quote!(tags = [USERS]), "`USERS` is a constant"),
        (quote!(tags), "`tags` takes a list of strings"),
        (quote!(skip = [db, cache]), "write `skip(db, cache)`"),
        (quote!(skip("db")), "not strings: write `skip(db)`"),
        (quote!(skip), "write `skip(db)`"),
        (quote!(local = true), "`local` is a flag: write `local`"),
        (quote!(cache_none = false), "leave it out"),
        (quote!(returns = option), "write `returns = \"option\"`"),
        (quote!(name = users), "write `name = \"users.get\"`"),
        (quote!(store = 1), "write `store = \"catalog\"`"),
        (quote!(version = "2"), "write `version = 2`"),
        (quote!(version = -1), "`version` can't be negative"),
        (quote!(condition), "write `condition = id > 0`"),
        (quote!(cache_err(x)), "`cache_err` takes an expression"),
        (quote!(early_refresh = 2m), "`early_refresh` takes no value"),
        (quote!("users"), "not a bare value"),
    ];
    for (args, needle) in cases {
        assert_one(args, ok_fn(), needle);
    }
    for args in [quote!(tags = []), quote!(tags())] {
        assert_one(args, ok_fn(), "`tags` must not be empty");
    }
}
