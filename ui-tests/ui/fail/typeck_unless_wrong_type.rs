use cached_query::cached_query;

#[cached_query(unless = |value: &String| value.is_empty())]
async fn lookup(id: u32) -> u32 {
    id
}

fn main() {}
