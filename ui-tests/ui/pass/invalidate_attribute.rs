//! `#[cache_invalidate]` on every receiver form, generic functions, `impl Trait` arguments and
//! return types, patterns, early returns, `?`, and with every option.
#![allow(dead_code)]

use cached_query::cache_invalidate;
use std::fmt::Display;
use std::sync::Arc;

struct Tenant {
    id: u32,
    name: String,
}

impl Tenant {
    #[cache_invalidate(tags = ["tenant:{self.id}"])]
    async fn by_ref(&self, name: String) -> Result<String, String> {
        Ok(format!("{} {name}", self.id))
    }

    #[cache_invalidate(tags = ["tenant:{self.id}", "tenants"])]
    async fn by_mut(&mut self) -> Result<u32, String> {
        self.id += 1;
        Ok(self.id)
    }

    #[cache_invalidate(tags = ["tenant:{self.id}"], before)]
    async fn by_arc(self: Arc<Self>) -> u32 {
        self.id
    }

    #[cache_invalidate(tags = ["tenant:{self.id}"])]
    async fn by_value(self) -> String {
        self.name // moves out of `self`: the tag was formatted first
    }

    #[cache_invalidate(tags = ["tenant:{self.id}"])]
    async fn by_mut_value(mut self, name: String) -> Self {
        self.name = name;
        self
    }

    #[cache_invalidate(tags = ["tenant_names"])]
    async fn borrowed(&self) -> &str {
        &self.name
    }
}

trait Store {
    fn save(&self, id: u64) -> impl std::future::Future<Output = Result<(), String>> + Send;
}

impl Store for Tenant {
    #[cache_invalidate(tags = ["saved:{id}"])]
    async fn save(&self, id: u64) -> Result<(), String> {
        Ok(())
    }
}

#[cache_invalidate(tags = ["docs:{kind}", "docs"])]
async fn generic<T: Display + Send, const N: usize>(
    kind: &str,
    _doc: T,
) -> Result<[u8; N], String> {
    Ok([0; N])
}

#[cache_invalidate(tags = ["docs:{name}"])]
async fn impl_trait_arg(name: impl AsRef<str> + Display + Send) -> Result<usize, String> {
    Ok(name.as_ref().len())
}

#[cache_invalidate(tags = ["docs"])]
async fn impl_trait_return(id: u64) -> impl Display {
    id
}

#[cache_invalidate(tags = ["docs"])]
async fn result_of_impl_trait(id: u64) -> Result<impl Display, String> {
    Ok(id)
}

#[cache_invalidate(tags = ["point:{a}:{b}:{x}"])]
async fn patterns((a, b): (u8, u8), Point { x, .. }: Point) -> Result<u8, String> {
    Ok(a + b + x)
}

struct Point {
    x: u8,
    y: u8,
}

#[cache_invalidate(tags = ["parse"])]
async fn question_mark(text: String) -> Result<u64, std::num::ParseIntError> {
    let n: u64 = text.parse()?;
    if n == 0 {
        return Ok(1);
    }
    Ok(n)
}

type Outcome<T> = Result<T, String>;

#[cache_invalidate(tags = ["{{literal}}"], returns = "result", crate = ::cached_query)]
async fn alias() -> Outcome<u8> {
    Ok(1)
}

#[cache_invalidate(tags = ["anything"], returns = "value")]
async fn value(x: u8) -> Outcome<u8> {
    Err(x.to_string())
}

#[cache_invalidate(tags = ["unit"])]
async fn unit() {}

#[cache_invalidate(tags = ["inner"])]
async fn inner_attributes(id: u64) -> u64 {
    #![allow(clippy::needless_return)]
    return id;
}

#[cache_invalidate(tags = ["never"])]
async fn never_returns() -> Result<std::convert::Infallible, String> {
    Err("no".into())
}

fn assert_send<T: Send>(_: T) {}

fn main() {
    let tenant = Tenant {
        id: 1,
        name: String::new(),
    };
    assert_send(tenant.by_ref(String::new()));
    assert_send(generic::<u8, 2>("kind", 1));
    assert_send(unit());
}
