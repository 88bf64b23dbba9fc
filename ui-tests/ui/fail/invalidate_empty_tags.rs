use cached_query::cache_invalidate;

#[cache_invalidate(tags = [])]
pub async fn update(id: u64) -> Result<u64, String> {
    Ok(id)
}

#[cache_invalidate(tags = ["users", ""])]
pub async fn update_empty_tag(id: u64) -> Result<u64, String> {
    Ok(id)
}

fn main() {}
