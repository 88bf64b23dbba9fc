use cached_query::cache_invalidate;

#[cache_invalidate(tag = ["users"])]
pub async fn update(id: u64) -> Result<u64, String> {
    Ok(id)
}

#[cache_invalidate(tags = ["users"], ttl = 60)]
pub async fn update_ttl(id: u64) -> Result<u64, String> {
    Ok(id)
}

#[cache_invalidate(tags = ["users"], before, before)]
pub async fn update_twice(id: u64) -> Result<u64, String> {
    Ok(id)
}

fn main() {}
