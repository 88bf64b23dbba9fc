use cached_query::cache_invalidate;

#[cache_invalidate]
pub async fn update(id: u64) -> Result<u64, String> {
    Ok(id)
}

#[cache_invalidate(before)]
pub async fn update_before(id: u64) -> Result<u64, String> {
    Ok(id)
}

fn main() {}
