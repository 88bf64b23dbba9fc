use cached_query::cached_query;

// `cache_err` on a function that returns no `Result`.
#[cached_query(cache_err = |_: &u32| true)]
async fn not_a_result(id: u32) -> Option<u32> {
    Some(id)
}

// `err_ttl` without `cache_err`.
#[cached_query(err_ttl = "30s")]
async fn no_predicate(id: u32) -> Result<u32, String> {
    Ok(id)
}

fn main() {}
