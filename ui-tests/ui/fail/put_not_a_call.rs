use cached_query::{cache_put, cached_query};

#[cached_query]
pub async fn get_user(id: u64) -> u64 {
    id
}

#[cache_put(get_user)]
pub async fn path_only(id: u64) -> u64 {
    id
}

#[cache_put(get_user(id).await)]
pub async fn awaited(id: u64) -> u64 {
    id
}

#[cache_put(call = get_user(id))]
pub async fn named(id: u64) -> u64 {
    id
}

#[cache_put("get_user(id)")]
pub async fn quoted(id: u64) -> u64 {
    id
}

fn main() {}
