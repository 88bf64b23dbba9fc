//! `#[cache_put]` in the forms it takes: `Result`, `Option` and plain values, methods, several
//! read calls, the options, next to `#[cache_invalidate]`; and `ttl = "forever"`.
use cached_query::{cache_invalidate, cache_put, cached_query};

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub id: u64,
    pub email: String,
}

pub struct Pool;

#[cached_query(ttl = "forever", tags = ["user:{id}"], skip(db))]
pub async fn get_user(db: &Pool, id: u64) -> Result<User, String> {
    let _ = db;
    Ok(User { id, email: String::new() })
}

#[cached_query(ttl = forever, skip(db))]
pub async fn user_by_email(db: &Pool, email: String) -> Option<User> {
    let _ = (db, email);
    None
}

#[cache_put(get_user(db, id), user_by_email(db, email.clone()))]
#[cache_invalidate(tags = ["users"])]
pub async fn update_user(db: &Pool, id: u64, email: String) -> Result<User, std::io::Error> {
    let _ = db;
    Ok(User { id, email })
}

#[cache_put(user_by_email(db, email.clone()), crate = ::cached_query)]
pub async fn maybe_update(db: &Pool, email: String) -> Option<User> {
    let _ = db;
    Some(User { id: 1, email })
}

#[cached_query(ttl = "1m")]
pub async fn score(id: u64) -> u64 {
    id
}

#[cache_put(score(id), returns = "value")]
pub async fn set_score(id: u64, value: u64) -> u64 {
    let _ = id;
    value
}

#[derive(serde::Serialize)]
pub struct Repo;

impl Repo {
    #[cached_query(ttl = "1m")]
    pub async fn find(&self, id: u64) -> Result<u64, String> {
        Ok(id)
    }

    #[cache_put(self.find(id), Self::find_static(id))]
    pub async fn save(&self, id: u64) -> Result<u64, String> {
        if id == 0 {
            return Err("zero".into());
        }
        Ok(id)
    }

    #[cached_query(ttl = "1m")]
    pub async fn find_static(id: u64) -> u64 {
        id
    }
}

fn main() {}
