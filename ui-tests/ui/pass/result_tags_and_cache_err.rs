//! `result_tags` with closures (typed or not) and paths, on each return policy; `cache_err` with
//! closures and paths, `err_ttl`, on a `Result` alias, and with `local`.
#![allow(dead_code)]

use cached_query::cached_query;

fn ids(values: &Vec<u64>) -> Vec<String> {
    values.iter().map(|v| format!("id:{v}")).collect()
}

#[cached_query(result_tags = ids)]
async fn by_path(n: u64) -> Vec<u64> {
    vec![n]
}

#[cached_query(result_tags = |v| [format!("n:{v}")])]
async fn inferred(n: u64) -> Option<u64> {
    Some(n)
}

#[cached_query(result_tags = |v: &u64| Some(format!("n:{v}")), tags = ["all"])]
async fn typed(n: u64) -> Result<u64, String> {
    Ok(n)
}

#[derive(Clone, Debug, PartialEq)]
pub enum AppError {
    NotFound,
    Down,
}

pub type AppResult<T> = Result<T, AppError>;

fn is_not_found(e: &AppError) -> bool {
    *e == AppError::NotFound
}

#[cached_query(cache_err = is_not_found, err_ttl = "30s", returns = "result")]
async fn aliased(n: u64) -> AppResult<u64> {
    Ok(n)
}

#[cached_query(local, cache_err = |e| matches!(e, AppError::NotFound), result_tags = |v: &u64| vec![v.to_string()])]
async fn local(n: u64) -> Result<u64, AppError> {
    Ok(n)
}

fn main() {}
