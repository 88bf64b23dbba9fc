use cached_query::cached_query;

/// Not `Clone`: a cached value is handed out again, so it must be.
pub struct Connection {
    pub id: u64,
}

#[cached_query(local)]
pub async fn connect(id: u64) -> Connection {
    Connection { id }
}

fn main() {}
