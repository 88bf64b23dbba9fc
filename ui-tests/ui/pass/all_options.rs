//! Every option at once.
#![allow(dead_code)]

use serde::Serialize;

mod facade {
    pub use cached_query as cq;
}

pub struct Pool;

#[derive(Serialize)]
pub struct Org {
    pub id: u32,
    pub region: (String, u8),
}

pub type Lookup<T> = Option<T>;

#[facade::cq::cached_query(
    ttl = "1h30m",
    tags = ["users", "user:{id}", "org:{org.id}", "region:{org.region.0}/{org.region.1}", "{{literal}}"],
    skip(db, trace),
    version = 3,
    name = "users.find",
    crate = crate::facade::cq,
    returns = "option",
    cache_none,
    none_ttl = "30s",
)]
async fn find(db: &Pool, id: u64, org: Org, trace: impl Send) -> Lookup<String> {
    let _ = (db, trace);
    Some(format!("{id}@{}", org.id))
}

/// `local`: values are kept in memory only, so they need not be `Serialize`.
#[derive(Clone)]
pub struct Session {
    pub token: std::sync::Arc<str>,
}

#[facade::cq::cached_query(ttl = 60, local, tags = ["session:{user}"], crate = ::cached_query)]
async fn session(user: u64) -> Result<Session, String> {
    Ok(Session {
        token: format!("t{user}").into(),
    })
}

#[derive(Serialize)]
pub struct Repo {
    pub shard: u8,
}

impl Repo {
    #[facade::cq::cached_query(
        ttl = "250ms",
        tags = ["shard:{self.shard}", "key:{key}"],
        version = 1,
        name = "repo.get",
        local,
        cache_none,
        none_ttl = 1,
    )]
    async fn get(&self, key: String) -> Option<Session> {
        let _ = key;
        None
    }
}

fn main() {}
