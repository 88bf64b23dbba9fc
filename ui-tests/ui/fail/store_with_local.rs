use cached_query::cached_query;

#[cached_query(local, store = "geo")]
async fn lookup(id: u32) -> u32 {
    id
}

fn main() {}
