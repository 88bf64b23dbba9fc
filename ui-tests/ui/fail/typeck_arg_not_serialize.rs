use cached_query::cached_query;

/// A connection pool: not `Serialize`, and not meant to be part of a key.
pub struct Pool;

#[cached_query]
pub async fn get(pool: &Pool, id: u64) -> u64 {
    let _ = pool;
    id
}

fn main() {}
