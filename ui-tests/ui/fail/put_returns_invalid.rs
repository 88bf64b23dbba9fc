use cached_query::{cache_put, cached_query};

#[cached_query]
pub async fn get_user(id: u64) -> u64 {
    id
}

#[cache_put(get_user(id), returns = "maybe")]
pub async fn update(id: u64) -> u64 {
    id
}

fn main() {}
