//! The read call of `#[cache_put]` is type-checked like any call: errors point at its tokens.
use cached_query::{cache_put, cached_query};

#[cached_query]
pub async fn get_user(id: u64) -> Result<String, String> {
    Ok(format!("user {id}"))
}

#[cache_put(get_user(name))]
pub async fn wrong_argument(name: String) -> Result<String, String> {
    Ok(name)
}

#[cache_put(get_usr(id))]
pub async fn unknown_function(id: u64) -> Result<String, String> {
    Ok(id.to_string())
}

fn main() {}
