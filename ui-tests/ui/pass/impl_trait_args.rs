//! `impl Trait` arguments: part of the key (with their type name), or skipped.
#![allow(dead_code)]

use cached_query::cached_query;
use serde::Serialize;
use std::fmt::Display;

#[cached_query]
async fn describe(value: impl Serialize + Display) -> String {
    value.to_string()
}

#[cached_query(skip(query))]
async fn skipped(id: u64, query: impl AsRef<str>) -> String {
    format!("{id}:{}", query.as_ref())
}

#[cached_query]
async fn nested(values: Vec<impl Serialize + Display>) -> usize {
    values.len()
}

struct Repo;

impl Repo {
    #[cached_query(skip(self, db))]
    async fn load(&self, db: impl Send, key: impl Serialize + Display + Send) -> String {
        let _ = db;
        key.to_string()
    }
}

fn main() {}
