use cached_query::cache_put;

#[cache_put]
pub async fn update(id: u64) -> u64 {
    id
}

#[cache_put(returns = "value")]
pub async fn update_with_option_only(id: u64) -> u64 {
    id
}

fn main() {}
