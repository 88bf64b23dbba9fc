//! `#[cached_query(batch)]`: the option's forms, the batch parameter and its items' name, the
//! returned map, the options a batch can't take, merging.

use proc_macro2::TokenStream;
use quote::quote;

use super::{assert_one, errors};

fn users_fn() -> TokenStream {
    quote!(
        async fn get_users(db: &Pool, ids: Vec<u64>) -> Result<HashMap<u64, User>, DbError> {
            db.load(&ids).await
        }
    )
}

#[test]
fn every_form_of_batch_expands() {
    for args in [
        quote!(batch, skip(db)),
        quote!(batch(ids), skip(db)),
        quote!(batch(ids as user_id), skip(db), tags = ["user:{user_id}"]),
        quote!(
            batch,
            skip(db),
            tags = ["users", "user:{id}"],
            cache_none = false
        ),
        quote!(
            batch,
            skip(db),
            merge = "2ms",
            max_batch = 500,
            none_ttl = "30s"
        ),
        quote!(
            batch,
            skip(db),
            local,
            condition = ids.len() < 1000,
            ttl = "5m"
        ),
    ] {
        assert_eq!(
            errors(args.clone(), users_fn()),
            Vec::<String>::new(),
            "{args}"
        );
    }
}

#[test]
fn maps_in_every_accepted_shape_expand() {
    for ret in [
        quote!(HashMap<u64, User>),
        quote!(std::collections::BTreeMap<u64, User>),
        quote!(HashMap<u64, User, BuildHasherDefault<FxHasher>>),
        quote!(anyhow::Result<BTreeMap<u64, User>>),
        quote!(IndexMap<String, Vec<u8>>),
    ] {
        let item = quote!(async fn f(ids: Vec<u64>) -> #ret { todo!() });
        assert_eq!(errors(quote!(batch), item), Vec::<String>::new(), "{ret}");
    }
    let alias = quote!(
        async fn f(ids: Vec<u64>) -> DbResult<HashMap<u64, User>> {
            todo!()
        }
    );
    assert_eq!(
        errors(quote!(batch, returns = "result"), alias),
        Vec::<String>::new()
    );
}

#[test]
fn the_batch_parameter_must_be_found() {
    assert_one(
        quote!(batch, skip(db, ids)),
        users_fn(),
        "every parameter is skipped",
    );
    assert_one(
        quote!(batch),
        users_fn(),
        "can't tell which parameter holds the items: `db`, `ids` are in the key",
    );
    assert_one(
        quote!(batch(idz), skip(db)),
        users_fn(),
        "`batch(idz)` names no parameter",
    );
    assert_one(
        quote!(batch(ids), skip(db, ids)),
        users_fn(),
        "remove it from `skip(...)`",
    );
    assert_one(
        quote!(batch(self)),
        quote!(
            async fn f(&self, ids: Vec<u64>) -> HashMap<u64, u8> {
                todo!()
            }
        ),
        "the receiver can't be the batch",
    );
    assert_one(quote!(batch = ids), users_fn(), "write `batch(ids)`");
    assert_one(
        quote!(batch(ids as)),
        users_fn(),
        "`batch` names a parameter",
    );
}

#[test]
fn the_items_need_a_name_of_their_own() {
    assert_one(
        quote!(batch, tags = ["user:{ids}"], skip(db)),
        users_fn(),
        "names the whole batch",
    );
    assert_one(
        quote!(batch(ids as db)),
        users_fn(),
        "the items of `ids` can't be called `db`",
    );
    assert_one(
        quote!(batch, tags = ["user:{key}"]),
        quote!(
            async fn f(batch: Vec<u64>) -> HashMap<u64, u8> {
                todo!()
            }
        ),
        "`batch(batch as key)` names them",
    );
}

#[test]
fn a_batch_returns_a_map() {
    for ret in [
        quote!(Vec<User>),
        quote!(Result<Users, DbError>),
        quote!(Option<HashMap<u64, User>>),
    ] {
        let item = quote!(async fn f(ids: Vec<u64>) -> #ret { todo!() });
        let errs = errors(quote!(batch), item);
        assert_eq!(errs.len(), 1, "{ret}: {errs:#?}");
        assert!(errs[0].contains("returns a map"), "{}", errs[0]);
    }
    assert_one(
        quote!(batch, returns = "option"),
        quote!(
            async fn f(ids: Vec<u64>) -> HashMap<u64, u8> {
                todo!()
            }
        ),
        "`returns = \"option\"` can't apply",
    );
    assert_one(
        quote!(batch),
        quote!(
            async fn f(ids: impl IntoIterator<Item = u64>) -> HashMap<u64, u8> {
                todo!()
            }
        ),
        "the batch's type must be named",
    );
}

#[test]
fn options_a_batch_cannot_take() {
    for (option, needle) in [
        (
            quote!(stale_while_revalidate = "1m"),
            "`stale_while_revalidate` can't apply",
        ),
        (
            quote!(stale_if_error = "1m"),
            "`stale_if_error` can't apply",
        ),
        (quote!(early_refresh), "`early_refresh` can't apply"),
        (
            quote!(result_tags = |m| vec![]),
            "`result_tags` can't apply",
        ),
        (quote!(cache_err = |e| true), "`cache_err` can't apply"),
        (quote!(unless = |r| true), "`unless` can't apply"),
        (quote!(min_compute = "5ms"), "`min_compute` can't apply"),
        (quote!(max_batch = 10), "add `merge = \"2ms\"`"),
        (
            quote!(cache_none = false, none_ttl = "1m"),
            "remove one of them",
        ),
    ] {
        assert_one(quote!(batch, skip(db), #option), users_fn(), needle);
    }
}

#[test]
fn merging_and_cache_none_false_are_for_batches() {
    let single = quote!(
        async fn f(id: u64) -> Option<u8> {
            None
        }
    );
    assert_one(
        quote!(merge = "2ms"),
        single.clone(),
        "make this function a batch",
    );
    assert_one(
        quote!(max_batch = 5),
        single.clone(),
        "it applies to `#[cached_query(batch",
    );
    assert_one(quote!(cache_none = false), single, "`cache_none` is a flag");
    assert_one(
        quote!(batch, skip(db), max_batch = 0),
        users_fn(),
        "a whole number from 1",
    );
}
