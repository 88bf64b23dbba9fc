//! Pattern parameters: each bound identifier is part of the key; `_` binds nothing.
#![allow(dead_code)]

use cached_query::cached_query;
use serde::Serialize;

#[derive(Serialize)]
struct Point {
    x: i32,
    y: i32,
}

#[derive(Serialize)]
struct Id(u64);

/// Not `Serialize`: fine behind `_`.
struct Pool;

#[cached_query]
async fn tuple((a, b): (u8, u8)) -> u16 {
    u16::from(a) + u16::from(b)
}

#[cached_query]
async fn struct_pattern(Point { x, y: _ }: Point) -> i32 {
    x
}

#[cached_query]
async fn struct_rest(Point { x, .. }: Point) -> i32 {
    x
}

#[cached_query]
async fn tuple_struct(Id(id): Id) -> u64 {
    id
}

#[cached_query]
async fn nested(((a, _), Point { x, y }, Id(id)): ((u8, Pool), Point, Id)) -> i64 {
    i64::from(a) + i64::from(x) + i64::from(y) + id as i64
}

#[cached_query]
async fn wildcard(_: Pool, id: u64) -> u64 {
    id
}

#[cached_query]
async fn mutable(mut count: u32, (mut a, b): (u32, u32)) -> u32 {
    count += 1;
    a += b;
    count + a
}

#[cached_query]
async fn by_ref(ref key: String, &value: &u32) -> String {
    format!("{key}{value}")
}

#[cached_query(skip(db))]
async fn skipped_binding((db, id): (Pool, u64)) -> u64 {
    let _ = db;
    id
}

fn main() {}
