use cached_query::cached_query;

#[cached_query(stale_if_error = "5m")]
async fn lookup(id: u32) -> Option<u32> {
    Some(id)
}

fn main() {}
