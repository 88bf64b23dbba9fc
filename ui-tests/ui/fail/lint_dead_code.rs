#![deny(dead_code)]

use cached_query::cached_query;

#[cached_query]
async fn never_used(id: u64) -> u64 {
    id
}

struct Repo;

impl Repo {
    #[cached_query(skip(self))]
    async fn never_called(&self, id: u64) -> u64 {
        id
    }
}

fn main() {
    let _ = Repo;
}
