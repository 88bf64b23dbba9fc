use cached_query::{cache_put, cached_query};

#[cached_query]
pub async fn get_user(id: u64) -> u64 {
    id
}

#[cache_put(get_user(id))]
pub fn not_async(id: u64) -> u64 {
    id
}

#[cache_put(get_user(id))]
pub async fn returns_nothing(id: u64) {
    let _ = id;
}

fn main() {}
