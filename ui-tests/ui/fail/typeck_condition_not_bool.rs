use cached_query::cached_query;

#[cached_query(condition = id + 1)]
async fn lookup(id: u32) -> u32 {
    id
}

fn main() {}
