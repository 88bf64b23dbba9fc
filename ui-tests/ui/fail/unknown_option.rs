use cached_query::cached_query;

#[cached_query(tag = ["users"])]
pub async fn get(id: u64) -> u64 {
    id
}

fn main() {}
