use cached_query::cached_query;

#[cached_query(ttl = 60)]
pub const fn get(id: u64) -> u64 {
    id
}

fn main() {}
