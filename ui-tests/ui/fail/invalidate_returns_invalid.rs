use cached_query::cache_invalidate;

#[cache_invalidate(tags = ["users"], returns = "option")]
pub async fn update(id: u64) -> Option<u64> {
    Some(id)
}

fn main() {}
