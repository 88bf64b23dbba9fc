use cached_query::cached_query;

// Tags must be strings.
#[cached_query(result_tags = |ids: &Vec<u64>| ids.clone())]
async fn numbers(team: u64) -> Vec<u64> {
    vec![team]
}

// The closure takes the stored value (`u64` of `Result<u64, String>`), not the whole result.
#[cached_query(result_tags = |r: &Result<u64, String>| vec![format!("{r:?}")])]
async fn whole_result(id: u64) -> Result<u64, String> {
    Ok(id)
}

// The closure can't use the function's parameters: tags from arguments go in `tags`.
#[cached_query(result_tags = |value: &u64| vec![format!("{value}:{id}")])]
async fn captures(id: u64) -> u64 {
    id
}

fn main() {}
