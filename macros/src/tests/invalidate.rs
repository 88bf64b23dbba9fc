//! `#[cache_invalidate]` unit tests: its options, function checks and tags.

use quote::quote;

use super::{assert_one_invalidate, invalidate_errors, ok_fn};

#[test]
fn invalidate_options() {
    use crate::args::{CacheInvalidateArgs, Returns};
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
    assert_eq!(args.returns, Some(Returns::Value));

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
fn invalidate_once_per_function() {
    assert_one_invalidate(
        quote!(tags = ["a"]),
        quote!(
            #[cache_invalidate(tags = ["b"])]
            async fn f() {}
        ),
        "list every tag in one attribute",
    );
    assert_one_invalidate(
        quote!(tags = ["a"]),
        quote!(
            #[cached_query]
            async fn f() -> u8 {
                1
            }
        ),
        "can't be combined on one function",
    );
}
