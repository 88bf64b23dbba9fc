use cached_query::cached_query;

#[cached_query(ttl = "forever", stale_if_error = "forever", min_compute = forever)]
pub async fn rates(day: u32) -> Result<u32, String> {
    Ok(day)
}

fn main() {}
