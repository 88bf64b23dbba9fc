use cached_query::cached_query;

#[cached_query]
pub async fn refresh(id: u64) {
    let _ = id;
}

fn main() {}
