//! What goes into a key: the function, every non-skipped argument, generic type arguments,
//! `version`, `name`.

use crate::Runs;
use cached_query::cached_query;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Display;

#[cached_query]
async fn double(x: u32) -> u32 {
    x * 2
}

#[cached_query]
async fn triple(x: u32) -> u32 {
    x * 3
}

#[tokio::test]
async fn two_functions_with_the_same_arguments_never_share_an_entry() {
    assert_eq!(double(5).await, 10);
    assert_eq!(triple(5).await, 15);
    assert_eq!(double(5).await, 10);
    assert_eq!(triple(5).await, 15);
}

mod a {
    #[cached_query::cached_query]
    pub async fn same_name(x: u8) -> String {
        format!("a{x}")
    }
}
mod b {
    #[cached_query::cached_query]
    pub async fn same_name(x: u8) -> String {
        format!("b{x}")
    }
}

#[tokio::test]
async fn functions_of_the_same_name_in_two_modules_are_distinct() {
    assert_eq!(a::same_name(1).await, "a1");
    assert_eq!(b::same_name(1).await, "b1");
    assert_eq!(a::same_name(1).await, "a1");
}

static PAIR_RUNS: Runs = Runs::new();

#[cached_query]
async fn pair(a: u32, b: u32) -> u32 {
    PAIR_RUNS.bump();
    a * 10 + b
}

#[tokio::test]
async fn argument_order_is_part_of_the_key() {
    assert_eq!(pair(1, 2).await, 12);
    assert_eq!(pair(2, 1).await, 21);
    assert_eq!(pair(1, 2).await, 12);
    assert_eq!(PAIR_RUNS.get(), 2);
}

#[cached_query]
async fn type_of<T: Default + Serialize + Display + Send + Sync + 'static>(
    label: String,
) -> String {
    format!("{label}:{}:{}", std::any::type_name::<T>(), T::default())
}

#[tokio::test]
async fn each_instantiation_of_a_generic_function_has_its_own_entries() {
    let as_u8 = type_of::<u8>("x".into()).await;
    let as_string = type_of::<String>("x".into()).await;
    assert_ne!(as_u8, as_string);
    assert_eq!(type_of::<u8>("x".into()).await, as_u8);
    assert_eq!(type_of::<String>("x".into()).await, as_string);
}

#[cached_query]
async fn const_generic<const N: usize>(x: u8) -> usize {
    N + usize::from(x)
}

#[tokio::test]
async fn const_generic_values_are_part_of_the_key() {
    assert_eq!(const_generic::<1>(1).await, 2);
    assert_eq!(const_generic::<5>(1).await, 6);
    assert_eq!(const_generic::<1>(1).await, 2);
}

#[cached_query]
async fn describe(value: impl Serialize + Display + Send) -> String {
    format!("{value}")
}

#[tokio::test]
async fn impl_trait_arguments_key_on_their_type_too() {
    // `1u8` and `1u64` encode alike in varint bincode; their type names tell them apart.
    assert_eq!(describe(1u8).await, "1");
    assert_eq!(describe(1u64).await, "1");
    assert_eq!(describe("text").await, "text");
    assert_eq!(describe(1u8).await, "1");
}

pub struct Pool {
    pub calls: Runs,
}

static POOL: Pool = Pool { calls: Runs::new() };

#[cached_query(skip(pool))]
async fn via_pool(pool: &Pool, id: u32) -> u32 {
    pool.calls.bump();
    id + 1
}

#[tokio::test]
async fn skipped_arguments_are_left_out_of_the_key() {
    assert_eq!(via_pool(&POOL, 1).await, 2);
    assert_eq!(via_pool(&POOL, 1).await, 2);
    assert_eq!(POOL.calls.get(), 1);
}

static PATTERN_RUNS: Runs = Runs::new();

#[derive(Serialize)]
pub struct Point {
    x: i32,
    y: i32,
}

#[cached_query]
async fn patterns((a, b): (i32, i32), Point { x, .. }: Point, mut n: i32) -> i32 {
    PATTERN_RUNS.bump();
    n += 1;
    a + b + x + n
}

#[tokio::test]
async fn pattern_parameters_key_on_their_bindings() {
    assert_eq!(patterns((1, 2), Point { x: 3, y: 0 }, 0).await, 7);
    // `y` is not bound by the pattern, so it cannot change the result: same entry.
    assert_eq!(patterns((1, 2), Point { x: 3, y: 99 }, 0).await, 7);
    assert_eq!(PATTERN_RUNS.get(), 1);
    assert_eq!(patterns((2, 1), Point { x: 3, y: 0 }, 0).await, 7);
    assert_eq!(PATTERN_RUNS.get(), 2);
}

static REF_RUNS: Runs = Runs::new();

#[cached_query]
async fn by_reference(name: &str, ids: &[u32], filters: &BTreeMap<String, String>) -> usize {
    REF_RUNS.bump();
    name.len() + ids.len() + filters.len()
}

#[tokio::test]
async fn reference_arguments_key_on_the_referenced_values() {
    let filters = BTreeMap::from([("k".to_string(), "v".to_string())]);
    assert_eq!(by_reference("ab", &[1, 2], &filters).await, 5);
    let owned = String::from("ab");
    assert_eq!(by_reference(&owned, &[1, 2][..], &filters.clone()).await, 5);
    assert_eq!(REF_RUNS.get(), 1);
    assert_eq!(by_reference("ab", &[1, 3], &filters).await, 5);
    assert_eq!(REF_RUNS.get(), 2);
}

mod versions {
    use crate::Runs;
    pub static V1: Runs = Runs::new();
    pub static V2: Runs = Runs::new();
    pub mod one {
        #[cached_query::cached_query(name = "shared-name", version = 1)]
        pub async fn f(x: u8) -> u8 {
            super::V1.bump();
            x
        }
    }
    pub mod two {
        #[cached_query::cached_query(name = "shared-name", version = 2)]
        pub async fn f(x: u8) -> u8 {
            super::V2.bump();
            x + 100
        }
    }
    pub mod renamed {
        #[cached_query::cached_query(name = "shared-name", version = 1)]
        pub async fn moved_elsewhere(x: u8) -> u8 {
            x + 200
        }
    }
}

#[tokio::test]
async fn name_gives_a_stable_identity_and_version_separates_entries() {
    assert_eq!(versions::one::f(1).await, 1);
    assert_eq!(
        versions::two::f(1).await,
        101,
        "another version, another entry"
    );
    // Same name and version: the same identity, wherever the function lives.
    assert_eq!(versions::renamed::moved_elsewhere(1).await, 1);
    assert_eq!(
        cached_query::stats()
            .function("shared-name")
            .map(|f| f.name.as_str()),
        Some("shared-name")
    );
}
