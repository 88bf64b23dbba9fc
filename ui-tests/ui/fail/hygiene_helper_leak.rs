use cached_query::cached_query;

// The generated locals `__cq_key` and `__cq_miss` are invisible to the user's body.
#[cached_query]
pub async fn peek(id: u64) -> u64 {
    let _ = __cq_key;
    let _ = __cq_miss;
    id
}

fn main() {}
