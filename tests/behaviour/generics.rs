//! What the key holds wherever a type can vary (issue 12): the impl's type and generic
//! arguments, const generics, a trait's `Self` in default bodies, and the generic arguments of
//! the trait an impl implements, with or without a receiver. Two instantiations never share an
//! entry; each call below would return another instantiation's value if they did.

use crate::Runs;
use cached_query::cached_query;
use serde::Serialize;
use std::any::type_name;
use std::marker::PhantomData;

/// The last path segment of `T`'s name: `u8`, `Alpha`.
fn short<T: ?Sized>() -> &'static str {
    let name = type_name::<T>();
    name.rsplit("::").next().unwrap_or(name)
}

pub struct Repo<T>(PhantomData<T>);

static LABEL_RUNS: Runs = Runs::new();

impl<T: Send + 'static> Repo<T> {
    /// An associated function: no receiver, no argument, only the impl's `T` varies.
    #[cached_query]
    async fn label() -> String {
        LABEL_RUNS.bump();
        format!("repo of {}", short::<T>())
    }
}

#[tokio::test]
async fn associated_functions_of_a_generic_impl_key_on_its_type_arguments() {
    assert_eq!(Repo::<u8>::label().await, "repo of u8");
    assert_eq!(Repo::<u16>::label().await, "repo of u16");
    assert_eq!(Repo::<u8>::label().await, "repo of u8");
    assert_eq!(Repo::<u16>::label().await, "repo of u16");
    assert_eq!(LABEL_RUNS.get(), 2, "each instantiation computed once");
}

pub struct Grid<const N: usize>;

impl<const N: usize> Grid<N> {
    #[cached_query]
    async fn cells(scale: u32) -> usize {
        N * N * scale as usize
    }
}

#[tokio::test]
async fn associated_functions_of_a_const_generic_impl_key_on_its_values() {
    assert_eq!(Grid::<2>::cells(1).await, 4);
    assert_eq!(Grid::<3>::cells(1).await, 9);
    assert_eq!(Grid::<2>::cells(1).await, 4);
}

pub trait Describe: Serialize + Send + Sync + 'static {
    /// A default body without a receiver: only `Self` varies.
    #[cached_query]
    async fn kind() -> String {
        format!("kind {}", short::<Self>())
    }

    /// A default body with a receiver whose value is the same for every implementor.
    #[cached_query]
    async fn describe(&self, id: u32) -> String {
        format!("{} #{id}", short::<Self>())
    }
}

#[derive(Serialize)]
pub struct Alpha;
#[derive(Serialize)]
pub struct Beta;
impl Describe for Alpha {}
impl Describe for Beta {}

#[tokio::test]
async fn trait_default_bodies_key_on_the_implementing_type() {
    assert_eq!(Alpha::kind().await, "kind Alpha");
    assert_eq!(Beta::kind().await, "kind Beta");
    assert_eq!(Alpha::kind().await, "kind Alpha");
    // `Alpha` and `Beta` serialize alike (unit structs): only their type tells them apart.
    assert_eq!(Alpha.describe(1).await, "Alpha #1");
    assert_eq!(Beta.describe(1).await, "Beta #1");
    assert_eq!(Alpha.describe(1).await, "Alpha #1");
}

pub trait Convert<X> {
    async fn convert(id: u32) -> String;
}

pub struct Converter;

impl<X: 'static> Convert<X> for Converter {
    /// `Self` is fixed; the trait's argument `X` varies.
    #[cached_query]
    async fn convert(id: u32) -> String {
        format!("{id} as {}", short::<X>())
    }
}

#[tokio::test]
async fn impls_of_a_generic_trait_key_on_the_trait_arguments() {
    assert_eq!(<Converter as Convert<u8>>::convert(7).await, "7 as u8");
    assert_eq!(<Converter as Convert<i64>>::convert(7).await, "7 as i64");
    assert_eq!(<Converter as Convert<u8>>::convert(7).await, "7 as u8");
}

/// Serializes as its id alone, whatever `T`: only the type tells two instantiations apart.
pub struct Typed<T> {
    id: u32,
    _of: PhantomData<T>,
}

impl<T> Serialize for Typed<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.id.serialize(serializer)
    }
}

impl<T: Sync + 'static> Typed<T> {
    #[cached_query]
    async fn name(&self) -> String {
        format!("{} {}", short::<T>(), self.id)
    }
}

#[tokio::test]
async fn methods_of_a_generic_impl_key_on_its_type_arguments() {
    let as_u8 = Typed::<u8> {
        id: 1,
        _of: PhantomData,
    };
    let as_bool = Typed::<bool> {
        id: 1,
        _of: PhantomData,
    };
    assert_eq!(as_u8.name().await, "u8 1");
    assert_eq!(as_bool.name().await, "bool 1");
    assert_eq!(as_u8.name().await, "u8 1");
}

static PLAIN_RUNS: Runs = Runs::new();

pub struct Plain;

impl Plain {
    /// A non-generic associated function: one entry per argument, as for a free function.
    #[cached_query]
    async fn twice(x: u32) -> u32 {
        PLAIN_RUNS.bump();
        x * 2
    }
}

#[tokio::test]
async fn non_generic_associated_functions_key_on_their_arguments_only() {
    assert_eq!(Plain::twice(4).await, 8);
    assert_eq!(Plain::twice(4).await, 8);
    assert_eq!(Plain::twice(5).await, 10);
    assert_eq!(PLAIN_RUNS.get(), 2);
}
