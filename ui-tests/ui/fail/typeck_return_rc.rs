//! A return type that misses several bounds at once (`Rc<String>`: `Send`, `Sync`, `Serialize`,
//! `Deserialize`) is one error, whose notes say what fixes all of them (`local` does not fix
//! `Send + Sync`).

use cached_query::cached_query;
use std::rc::Rc;

#[cached_query]
pub async fn shared(id: u64) -> Rc<String> {
    Rc::new(id.to_string())
}

fn main() {}
