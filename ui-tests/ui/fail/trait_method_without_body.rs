use cached_query::cached_query;

pub trait Repo {
    #[cached_query]
    async fn find(&self, id: u64) -> Option<u64>;
}

fn main() {}
