use cached_query::{cache_put, cached_query};

#[cached_query]
pub async fn get_user(id: u64) -> u64 {
    id
}

#[cache_put(get_user(id))]
#[cached_query]
pub async fn both(id: u64) -> u64 {
    id
}

#[cache_put(get_user(id))]
#[cache_put(get_user(id + 1))]
pub async fn twice(id: u64) -> u64 {
    id
}

fn main() {}
