//! Options given a value of the wrong shape: each error says the right one, with the option's
//! example.

use cached_query::cached_query;

#[cached_query(returns = result)]
pub async fn returns_unquoted(id: u64) -> u64 {
    id
}

#[cached_query(name = users_get, store = 1)]
pub async fn names_unquoted(id: u64) -> u64 {
    id
}

#[cached_query(version = "2")]
pub async fn version_quoted(id: u64) -> u64 {
    id
}

#[cached_query(condition, unless(is_empty))]
pub async fn expressions_missing(id: u64) -> Vec<u64> {
    vec![id]
}

#[cached_query(early_refresh(2))]
pub async fn early_refresh_shapes(id: u64) -> u64 {
    id
}

#[cached_query(early_refresh = 2m)]
pub async fn early_refresh_with_a_unit(id: u64) -> u64 {
    id
}

#[cached_query("users")]
pub async fn bare_literal(id: u64) -> u64 {
    id
}

fn main() {}
