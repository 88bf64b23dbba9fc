use cached_query::cached_query;

#[cached_query(returns = "either")]
pub async fn get(id: u64) -> u64 {
    id
}

fn main() {}
