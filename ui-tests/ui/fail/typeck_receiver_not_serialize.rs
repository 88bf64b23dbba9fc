use cached_query::cached_query;

/// Not `Serialize`: `self` must be skipped.
pub struct Service {
    pub prefix: String,
}

impl Service {
    #[cached_query]
    pub async fn config(&self, key: String) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn main() {}
