use cached_query::cached_query;

#[cached_query(cache_none)]
pub async fn get(id: u64) -> Result<u64, String> {
    Ok(id)
}

fn main() {}
