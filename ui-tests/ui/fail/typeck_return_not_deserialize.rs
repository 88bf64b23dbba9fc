use cached_query::cached_query;
use serde::Serialize;

/// `Serialize` but not `Deserialize`.
#[derive(Clone, Serialize)]
pub struct Report {
    pub lines: Vec<String>,
}

#[cached_query]
pub async fn report(id: u64) -> Option<Report> {
    Some(Report {
        lines: vec![id.to_string()],
    })
}

fn main() {}
