use cached_query::{cache_invalidate, cached_query};

pub struct Repo;

#[cached_query]
impl Repo {
    pub async fn get(&self, id: u64) -> u64 {
        id
    }
}

#[cached_query(ttl = 60)]
mod queries {
    pub async fn get(id: u64) -> u64 {
        id
    }
}

#[cache_invalidate(tags = ["users"])]
pub trait Writes {
    async fn write(&self, id: u64) -> u64;
}

#[cached_query]
pub struct NotAFunction;

fn main() {}
