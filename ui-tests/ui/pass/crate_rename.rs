//! The facade reached through another path, with `crate = ...` pointing the generated code at
//! it; and a local item named `cached_query` that must not capture the default `::cached_query`.
#![allow(dead_code)]

/// A library that re-exports the facade under another name.
mod my_lib {
    pub use cached_query as cache;
}

#[my_lib::cache::cached_query(crate = crate::my_lib::cache)]
async fn through_crate_path(id: u64) -> u64 {
    id
}

#[my_lib::cache::cached_query(crate = "crate::my_lib::cache", tags = ["id:{id}"])]
async fn through_string_path(id: u64) -> Option<u64> {
    Some(id)
}

mod renamed_import {
    use cached_query as cq;

    #[cq::cached_query(crate = ::cached_query)]
    async fn get(id: u64) -> u64 {
        id
    }
}

// `extern crate ... as` adds a new absolute name for the facade.
extern crate cached_query as cq_extern;

#[cq_extern::cached_query(crate = ::cq_extern, local)]
async fn through_extern_crate(id: u64) -> Result<u64, String> {
    Ok(id)
}

/// `cached_query` names `std` here (as in tokio's `macros_rename_test`): the default path is
/// `::cached_query`, which still means the facade.
mod shadowed_name {
    use std as cached_query;

    #[::cached_query::cached_query]
    async fn default_path(id: u64) -> u64 {
        let _ = cached_query::mem::size_of::<u64>();
        id
    }

    struct Repo;

    impl Repo {
        #[::cached_query::cached_query(skip(self), tags = ["repo:{id}"])]
        async fn method(&self, id: u64) -> Vec<u64> {
            vec![id]
        }
    }
}

/// A local module named `cached_query` with its own `__private`: must not be picked up.
mod shadowed_module {
    mod cached_query {
        pub mod __private {}
    }

    #[::cached_query::cached_query]
    async fn default_path(id: u64) -> u64 {
        id
    }
}

fn main() {}
