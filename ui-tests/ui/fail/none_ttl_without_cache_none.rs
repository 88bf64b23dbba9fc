use cached_query::cached_query;

#[cached_query(none_ttl = "30s")]
pub async fn get(id: u64) -> Option<u64> {
    Some(id)
}

fn main() {}
