use cached_query::cached_query;

pub struct Pool;

#[cached_query(skip = [db])]
pub async fn as_a_list(db: &Pool, id: u64) -> u64 {
    let _ = db;
    id
}

#[cached_query(skip("db"))]
pub async fn quoted(db: &Pool, id: u64) -> u64 {
    let _ = db;
    id
}

#[cached_query(skip = db)]
pub async fn as_a_value(db: &Pool, id: u64) -> u64 {
    let _ = db;
    id
}

#[cached_query(skip)]
pub async fn no_value(db: &Pool, id: u64) -> u64 {
    let _ = db;
    id
}

fn main() {}
