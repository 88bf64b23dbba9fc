use cached_query::cache_invalidate;

#[cache_invalidate(tags = ["users"])]
pub fn update(id: u64) -> Result<u64, String> {
    Ok(id)
}

#[cache_invalidate(tags = ["users"])]
pub const fn update_const(id: u64) -> u64 {
    id
}

fn main() {}
