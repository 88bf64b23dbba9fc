use cached_query::cached_query;

#[cached_query(tll = 60, ttl = "5w", ttl_ms = 100, skip(nope))]
pub fn get(id: u64) {
    let _ = id;
}

fn main() {}
