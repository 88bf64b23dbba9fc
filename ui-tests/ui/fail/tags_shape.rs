use cached_query::{cache_invalidate, cached_query};

const USERS: &str = "users";

#[cached_query(tags = "users")]
pub async fn one_string(id: u64) -> u64 {
    id
}

#[cached_query(tags = [USERS, "user:{id}"])]
pub async fn a_constant(id: u64) -> u64 {
    id
}

#[cached_query(tags = [42])]
pub async fn a_number(id: u64) -> u64 {
    id
}

#[cached_query(tags)]
pub async fn no_value(id: u64) -> u64 {
    id
}

#[cache_invalidate(tags = "users")]
pub async fn invalidate_one_string(id: u64) -> Result<u64, String> {
    Ok(id)
}

fn main() {}
