//! Inner attributes at the top of the body stay in the function body and apply to it.
#![deny(unused_variables, unused_mut)]

use cached_query::cached_query;

#[cached_query]
async fn allows(id: u64) -> u64 {
    #![allow(unused_variables, unused_mut)]
    let mut unused = 1;
    id
}

#[cached_query(skip(db))]
async fn several(db: (), id: u64) -> Option<u64> {
    #![allow(clippy::let_unit_value)]
    #![allow(unused_variables)]
    //! An inner doc comment is an inner attribute too.
    let unit = db;
    Some(id)
}

struct Repo;

impl Repo {
    #[cached_query(skip(self))]
    async fn method(&self, id: u64) -> u64 {
        #![allow(unused_variables)]
        let unused = 2;
        id
    }
}

fn main() {
    let _ = (allows, several, Repo::method);
}
