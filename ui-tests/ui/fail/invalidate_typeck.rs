//! Type errors of `#[cache_invalidate]` functions point at the user's code.
use cached_query::cache_invalidate;

#[cache_invalidate(tags = ["users"])]
pub async fn tail(id: u64) -> Result<String, String> {
    let _ = id;
    Ok("")
}

#[cache_invalidate(tags = ["users"], returns = "result")]
pub async fn not_a_result(id: u64) -> u64 {
    id
}

struct NoDisplay;

#[cache_invalidate(tags = ["user:{user}"])]
pub async fn placeholder_not_display(user: NoDisplay) {}

fn main() {}
