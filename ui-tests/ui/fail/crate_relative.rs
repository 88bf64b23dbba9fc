use cached_query::cached_query;

#[cached_query(crate = my_lib::cached_query)]
pub async fn get(id: u64) -> u64 {
    id
}

fn main() {}
