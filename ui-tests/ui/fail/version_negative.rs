use cached_query::cached_query;

#[cached_query(version = -1)]
pub async fn negative(id: u64) -> u64 {
    id
}

#[cached_query(version = 4294967296)]
pub async fn too_large(id: u64) -> u64 {
    id
}

fn main() {}
