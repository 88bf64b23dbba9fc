use cached_query::{cache_invalidate, cached_query};

#[cached_query(local = true)]
pub async fn local_true(id: u64) -> u64 {
    id
}

#[cached_query(cache_none = false)]
pub async fn cache_none_false(id: u64) -> Option<u64> {
    Some(id)
}

#[cache_invalidate(tags = ["users"], before = true)]
pub async fn before_true(id: u64) -> Result<u64, String> {
    Ok(id)
}

fn main() {}
