use cached_query::cached_query;

// The generated locals (`__cq_site`, `__cq_instance`, `__cq_key`, `__cq_miss`) and helper items
// (`__CQ_SITE`, `__cq_id`) are invisible to the user's body.
#[cached_query]
pub async fn peek(id: u64) -> u64 {
    let _ = __cq_site;
    let _ = __cq_instance;
    let _ = __cq_key;
    let _ = __cq_miss;
    let _ = &__CQ_SITE;
    __cq_id();
    id
}

fn main() {}
