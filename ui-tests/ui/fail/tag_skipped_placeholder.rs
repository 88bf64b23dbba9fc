use cached_query::cached_query;

pub struct Db;

#[cached_query(skip(db), tags = ["db:{db}"])]
pub async fn get(db: &Db, id: u64) -> u64 {
    let _ = db;
    id
}

fn main() {}
