use cached_query::cached_query;
use std::rc::Rc;

#[cached_query(ttl = "5m", stale_while_revalidate = "1m")]
async fn count(id: u32) -> u32 {
    let shared = Rc::new(id);
    tokio::task::yield_now().await;
    *shared
}

fn main() {}
