//! Expansion snapshots: `UPDATE_EXPECT=1 cargo test -p cached-query-macros` regenerates them.

use expect_test::{ExpectFile, expect_file};
use proc_macro2::TokenStream;
use quote::quote;

use crate::expand::{cache_invalidate, cache_put, cached_query};

fn check(args: TokenStream, item: TokenStream, expected: ExpectFile) {
    check_with(cached_query, args, item, expected);
}

fn check_with(
    attribute: fn(TokenStream, TokenStream) -> TokenStream,
    args: TokenStream,
    item: TokenStream,
    expected: ExpectFile,
) {
    let output = attribute(args, item);
    let file = match syn::parse2::<syn::File>(output.clone()) {
        Ok(file) => file,
        Err(err) => panic!("expansion is not a valid file ({err}):\n{output}"),
    };
    expected.assert_eq(&prettyplease::unparse(&file));
}

#[test]
fn free_fn() {
    check(
        quote!(
            ttl = "5m",
            tags = ["users", "user:{id}", "org:{user.org_id}"],
            skip(db)
        ),
        quote! {
            /// Loads a user.
            pub async fn get_user(db: &Pool, id: u64, user: UserRef) -> Result<User, DbError> {
                #![allow(clippy::needless_return)]
                db.load(id).await
            }
        },
        expect_file!["../../tests/snapshots/free_fn.rs"],
    );
}

#[test]
fn method_skip_self() {
    check(
        quote!(
            ttl = 60,
            skip(self),
            name = "repo.find",
            version = 2,
            crate = ::my_lib::cq
        ),
        quote! {
            async fn find(&self, (a, b): (u8, u8), Point { x, y: _ }: Point) -> Option<Row> {
                self.lookup(a, b, x).await
            }
        },
        expect_file!["../../tests/snapshots/method_skip_self.rs"],
    );
}

#[test]
fn receivers_and_generics() {
    check(
        quote!(
            local,
            cache_none,
            none_ttl = "30s",
            tags = ["{{literal}}:{self.id}"]
        ),
        quote! {
            async fn load<T: Serialize, const N: usize>(
                self: Arc<Self>,
                mut value: T,
                query: impl AsRef<str>,
            ) -> Option<Vec<T>> {
                None
            }
        },
        expect_file!["../../tests/snapshots/generic_fn.rs"],
    );
}

#[test]
fn by_value_self_and_returns_override() {
    check(
        quote!(returns = "value", tags = ["{{plain}}"]),
        quote! {
            async fn consume(mut self, ref key: String) -> MyResult<u32> {
                Ok(1)
            }
        },
        expect_file!["../../tests/snapshots/tags_by_value_self.rs"],
    );
}

#[test]
fn error_fallback() {
    check(
        quote!(ttl = "5w", skip(nope), tags = ["{missing}"]),
        quote! {
            fn not_async(id: u64) -> u64 {
                id
            }
        },
        expect_file!["../../tests/snapshots/error_fallback.rs"],
    );
}

#[test]
fn invalidate_after_ok() {
    check_with(
        cache_invalidate,
        quote!(tags = ["users", "user:{id}", "org:{user.org_id}"]),
        quote! {
            /// Renames a user.
            pub async fn rename(&self, id: u64, user: UserRef, name: String) -> Result<User, DbError> {
                #![allow(clippy::needless_return)]
                self.db.rename(id, name).await
            }
        },
        expect_file!["../../tests/snapshots/invalidate_after_ok.rs"],
    );
}

#[test]
fn put_after_ok() {
    check_with(
        cache_put,
        quote!(self.get_user(id), user_by_email(&self.db, email.clone())),
        quote! {
            /// Renames a user.
            pub async fn rename(&self, id: u64, email: String, name: String) -> Result<User, DbError> {
                self.db.rename(id, name).await
            }
        },
        expect_file!["../../tests/snapshots/put_after_ok.rs"],
    );
}

#[test]
fn stale_while_revalidate() {
    check(
        quote!(
            ttl = "5m",
            stale_while_revalidate = "1m",
            early_refresh = 2.0,
            skip(db)
        ),
        quote! {
            async fn get_user(db: Arc<Pool>, id: u64) -> Result<User, DbError> {
                db.load(id).await
            }
        },
        expect_file!["../../tests/snapshots/stale_while_revalidate.rs"],
    );
}

#[test]
fn result_tags_and_cache_err() {
    check(
        quote!(
            result_tags = |users| users
                .iter()
                .map(|u| format!("user:{}", u.id))
                .collect::<Vec<_>>(),
            cache_err = |e: &DbError| e.is_not_found(),
            err_ttl = "30s"
        ),
        quote! {
            async fn team(id: u64) -> Result<Vec<User>, DbError> {
                load(id).await
            }
        },
        expect_file!["../../tests/snapshots/result_tags_and_cache_err.rs"],
    );
}

#[test]
fn batch() {
    check(
        quote!(
            batch,
            ttl = "5m",
            tags = ["users", "user:{id}"],
            skip(db),
            merge = "2ms",
            max_batch = 500
        ),
        quote! {
            pub async fn get_users(db: &Pool, ids: Vec<u64>) -> Result<HashMap<u64, User>, DbError> {
                db.load(&ids).await
            }
        },
        expect_file!["../../tests/snapshots/batch.rs"],
    );
}

#[test]
fn batch_borrowed_method() {
    check(
        quote!(batch(skus as sku), local, tags = ["{self.shard}:{sku}"]),
        quote! {
            async fn stock<'a>(&self, region: &str, skus: &'a [Sku]) -> BTreeMap<Sku, u32> {
                self.count(region, skus).await
            }
        },
        expect_file!["../../tests/snapshots/batch_borrowed_method.rs"],
    );
}
