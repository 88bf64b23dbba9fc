use cached_query::cached_query;

/// Not `Clone`: it can't be handed out again.
#[derive(Debug)]
pub struct DbError;

#[cached_query(cache_err = |_: &DbError| true)]
async fn not_clone(id: u32) -> Result<u32, DbError> {
    Ok(id)
}

#[derive(Clone, Debug)]
pub struct Missing;

// The predicate takes the wrong type, and does not return a `bool`.
#[cached_query(cache_err = |e: &String| e.len())]
async fn wrong_predicate(id: u32) -> Result<u32, Missing> {
    Ok(id)
}

fn main() {}
