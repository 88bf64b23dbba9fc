use cached_query::cached_query;

use std::fmt::Display;

#[cached_query]
pub async fn top_level(id: u64) -> impl Display {
    id
}

#[cached_query]
pub async fn nested(id: u64) -> Result<impl Display, String> {
    Ok(id)
}

fn main() {}
