use cached_query::cached_query;

#[cached_query(ttl = "5 minutes")]
pub async fn get(id: u64) -> u64 {
    id
}

fn main() {}
