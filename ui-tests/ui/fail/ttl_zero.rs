use cached_query::cached_query;

#[cached_query(ttl = 0)]
pub async fn get(id: u64) -> u64 {
    id
}

fn main() {}
