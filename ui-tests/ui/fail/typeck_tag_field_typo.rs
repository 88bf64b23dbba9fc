//! A tag placeholder naming a field that does not exist: rustc's error points at the tag, and
//! suggests no rewrite of the literal into code.

use cached_query::{cache_invalidate, cached_query};
use serde::Serialize;

#[derive(Serialize)]
pub struct User {
    pub name: String,
    pub id: u64,
}

#[cached_query(tags = ["user:{user.nme}"])]
pub async fn get(user: User) -> u64 {
    user.id
}

#[cache_invalidate(tags = ["user:{user.idd}"])]
pub async fn rename(user: User) -> Result<u64, String> {
    Ok(user.id)
}

fn main() {}
