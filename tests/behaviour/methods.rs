//! Methods: `self` is part of the key unless skipped; impls never share entries.

use crate::Runs;
use cached_query::cached_query;
use serde::Serialize;
use std::sync::Arc;

#[derive(Serialize)]
pub struct Tenant {
    id: u32,
}

static TENANT_RUNS: Runs = Runs::new();

impl Tenant {
    #[cached_query]
    async fn greeting(&self, who: &str) -> String {
        TENANT_RUNS.bump();
        format!("tenant {} greets {who}", self.id)
    }

    #[cached_query]
    async fn by_mut(&mut self) -> u32 {
        self.id
    }

    #[cached_query]
    async fn by_arc(self: Arc<Self>) -> u32 {
        self.id + 1000
    }

    #[cached_query]
    async fn by_value(self) -> u32 {
        self.id + 2000
    }
}

#[tokio::test]
async fn self_is_part_of_the_key() {
    let one = Tenant { id: 1 };
    let two = Tenant { id: 2 };
    assert_eq!(one.greeting("ann").await, "tenant 1 greets ann");
    assert_eq!(two.greeting("ann").await, "tenant 2 greets ann");
    assert_eq!(
        Tenant { id: 1 }.greeting("ann").await,
        "tenant 1 greets ann"
    );
    assert_eq!(TENANT_RUNS.get(), 2);
}

#[tokio::test]
async fn every_receiver_form_works() {
    let mut t = Tenant { id: 3 };
    assert_eq!(t.by_mut().await, 3);
    assert_eq!(Arc::new(Tenant { id: 3 }).by_arc().await, 1003);
    assert_eq!(Tenant { id: 3 }.by_value().await, 2003);
    assert_eq!(Tenant { id: 4 }.by_value().await, 2004);
}

pub struct Service {
    pub runs: Runs,
}

impl Service {
    #[cached_query(skip(self))]
    async fn config(&self, key: &str) -> String {
        self.runs.bump();
        format!("value of {key}")
    }
}

#[tokio::test]
async fn skip_self_shares_entries_across_instances() {
    let a = Service { runs: Runs::new() };
    let b = Service { runs: Runs::new() };
    assert_eq!(a.config("k").await, "value of k");
    assert_eq!(b.config("k").await, "value of k");
    assert_eq!(a.runs.get() + b.runs.get(), 1);
}

pub trait Repo {
    fn find(&self, id: u32) -> impl Future<Output = String> + Send;
}

pub struct Users;
pub struct Orders;

impl Repo for Users {
    #[cached_query(skip(self))]
    async fn find(&self, id: u32) -> String {
        format!("user {id}")
    }
}

impl Repo for Orders {
    #[cached_query(skip(self))]
    async fn find(&self, id: u32) -> String {
        format!("order {id}")
    }
}

#[tokio::test]
async fn two_impls_of_one_trait_method_never_share_an_entry() {
    assert_eq!(Users.find(1).await, "user 1");
    assert_eq!(Orders.find(1).await, "order 1");
    assert_eq!(Users.find(1).await, "user 1");
}

pub struct Wrapper<T>(T);

impl<T: Default + std::fmt::Debug + Send + Sync> Wrapper<T> {
    #[cached_query(skip(self))]
    async fn describe(&self) -> String {
        format!("{:?}", T::default())
    }
}

#[tokio::test]
async fn methods_of_a_generic_impl_key_on_self_type() {
    assert_eq!(Wrapper(1u8).describe().await, "0");
    assert_eq!(Wrapper(String::new()).describe().await, "\"\"");
    assert_eq!(Wrapper(1u8).describe().await, "0");
}
