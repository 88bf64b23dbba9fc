use cached_query::cache_invalidate;

#[cache_invalidate(tags = ["users", "user:{user_id}"])]
pub async fn update(id: u64) -> Result<u64, String> {
    Ok(id)
}

#[cache_invalidate(tags = ["user:{self.id}"])]
pub async fn update_without_receiver(id: u64) -> Result<u64, String> {
    Ok(id)
}

fn main() {}
