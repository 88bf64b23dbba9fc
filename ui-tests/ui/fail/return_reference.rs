use cached_query::cached_query;

use std::borrow::Cow;

#[cached_query]
pub async fn borrowed(id: u64) -> &'static str {
    let _ = id;
    "user"
}

#[cached_query]
pub async fn with_lifetime<'a>(name: &'a str) -> Cow<'a, str> {
    Cow::Borrowed(name)
}

fn main() {}
