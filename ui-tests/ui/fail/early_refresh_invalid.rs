use cached_query::cached_query;

#[cached_query(ttl = "5m", early_refresh = 0)]
async fn zero(id: u32) -> u32 {
    id
}

#[cached_query(ttl = "5m", early_refresh = "soon")]
async fn text(id: u32) -> u32 {
    id
}

fn main() {}
