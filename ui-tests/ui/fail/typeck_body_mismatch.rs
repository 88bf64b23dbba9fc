use cached_query::cached_query;

#[cached_query]
pub async fn tail(id: u64) -> String {
    let _ = id;
    ""
}

#[cached_query]
pub async fn early_return(id: u64) -> Option<u64> {
    if id == 0 {
        return Some("zero");
    }
    Some(id)
}

fn main() {}
