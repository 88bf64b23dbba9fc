//! Validation unit tests: the function's shape and the options checked against it.

use quote::quote;

use super::{assert_one, errors, ok_fn};

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

#[test]
fn one_caching_attribute_per_function() {
    assert_one(
        quote!(),
        quote!(
            #[cached_query(ttl = 5)]
            async fn f(id: u64) -> u64 {
                id
            }
        ),
        "`#[cached_query]` is applied twice",
    );
    assert_one(
        quote!(),
        quote!(
            #[cached_query::cache_invalidate(tags = ["a"])]
            async fn f(id: u64) -> u64 {
                id
            }
        ),
        "can't be combined on one function",
    );
    // Other attributes are the user's business.
    assert!(
        errors(
            quote!(),
            quote!(
                #[tracing::instrument]
                #[allow(dead_code)]
                async fn f(id: u64) -> u64 {
                    id
                }
            )
        )
        .is_empty()
    );
}

#[test]
fn the_attribute_goes_on_functions_not_on_what_holds_them() {
    assert_one(
        quote!(),
        quote!(
            impl Repo {
                async fn get(&self) -> u8 {
                    1
                }
            }
        ),
        "not on an `impl` block: put it on each method",
    );
    assert_one(
        quote!(ttl = 5),
        quote!(
            mod queries {}
        ),
        "not on a module: put it on each function",
    );
    assert_one(
        quote!(),
        quote!(
            trait Repo {}
        ),
        "not on a trait",
    );
}
