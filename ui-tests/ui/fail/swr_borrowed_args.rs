use cached_query::cached_query;

pub struct Pool;

#[cached_query(ttl = "5m", stale_while_revalidate = "1m", skip(db))]
async fn get_user(db: &Pool, name: &str) -> Option<String> {
    let _ = db;
    Some(name.to_owned())
}

#[derive(serde::Serialize)]
pub struct Repo;

impl Repo {
    #[cached_query(stale_while_revalidate = "1m", skip(self))]
    async fn find(&self, id: u32) -> Option<u32> {
        Some(id)
    }
}

fn main() {}
