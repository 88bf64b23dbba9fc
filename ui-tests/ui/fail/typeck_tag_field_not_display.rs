use cached_query::cached_query;
use serde::Serialize;

/// `Serialize`, but not `Display`: it can be part of the key, not of a tag.
#[derive(Serialize)]
pub struct OrgId(pub u32);

#[derive(Serialize)]
pub struct User {
    pub id: u64,
    pub org: OrgId,
}

#[cached_query(tags = ["org:{user.org}"])]
pub async fn get(user: User) -> u64 {
    user.id
}

fn main() {}
