use cached_query::cached_query;
use std::rc::Rc;

#[cached_query(local)]
pub async fn shared(id: u64) -> Rc<String> {
    Rc::new(id.to_string())
}

fn main() {}
