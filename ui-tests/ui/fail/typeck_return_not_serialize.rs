use cached_query::cached_query;
use serde::Deserialize;

/// `Deserialize` but not `Serialize`: storable only with `local`.
#[derive(Clone, Deserialize)]
pub struct Session {
    pub token: String,
}

#[cached_query]
pub async fn session(user: u64) -> Result<Session, String> {
    Ok(Session {
        token: format!("t{user}"),
    })
}

fn main() {}
