//! Every receiver form, `skip(self)`, and a trait impl method (native `async fn` in traits).
#![allow(dead_code)]

use cached_query::cached_query;
use serde::Serialize;
use std::sync::Arc;

#[derive(Serialize)]
struct Tenant {
    id: u32,
}

impl Tenant {
    #[cached_query]
    async fn by_ref(&self, who: String) -> String {
        format!("{} {who}", self.id)
    }

    #[cached_query]
    async fn by_mut(&mut self) -> u32 {
        self.id += 1;
        self.id
    }

    #[cached_query]
    async fn by_arc(self: Arc<Self>) -> u32 {
        self.id
    }

    #[cached_query]
    async fn by_value(self) -> u32 {
        self.id
    }

    #[cached_query]
    async fn by_mut_value(mut self) -> u32 {
        self.id += 1;
        self.id
    }

    #[cached_query]
    async fn associated(id: u32) -> u32 {
        id
    }
}

/// Not `Serialize`: only usable with `skip(self)`.
struct Service {
    prefix: String,
}

impl Service {
    #[cached_query(skip(self))]
    async fn config(&self, key: String) -> String {
        format!("{}{key}", self.prefix)
    }

    #[cached_query(skip(self))]
    async fn shared(self: Arc<Self>, key: u32) -> Option<u32> {
        Some(key + self.prefix.len() as u32)
    }
}

trait Repo {
    async fn find(&self, id: u32) -> Result<String, String>;
}

impl Repo for Service {
    #[cached_query(skip(self))]
    async fn find(&self, id: u32) -> Result<String, String> {
        Ok(format!("{}{id}", self.prefix))
    }
}

impl Repo for Tenant {
    #[cached_query]
    async fn find(&self, id: u32) -> Result<String, String> {
        Err(format!("{}:{id}", self.id))
    }
}

fn main() {}
