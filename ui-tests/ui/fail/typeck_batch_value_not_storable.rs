use cached_query::cached_query;
use std::collections::HashMap;
use std::rc::Rc;

#[cached_query(batch)]
async fn shared(ids: Vec<u64>) -> HashMap<u64, Rc<String>> {
    ids.into_iter().map(|id| (id, Rc::new(String::new()))).collect()
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Sku(u64);

#[cached_query(batch)]
async fn unserializable(skus: Vec<Sku>) -> HashMap<Sku, String> {
    skus.into_iter().map(|sku| (sku, String::new())).collect()
}

fn main() {}
