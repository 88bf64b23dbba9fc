//! User code that shadows prelude names (types, variants, traits, primitives, `format_args!`)
//! and has local `core`/`std` modules still compiles: the generated code names everything by
//! absolute path.
#![allow(dead_code, non_camel_case_types, unused_macros)]

// The data types live outside the shadowing module: serde's derives are not under test here.
#[derive(serde::Serialize)]
pub struct User {
    pub id: u64,
    pub org: String,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Value(pub u8);

#[derive(serde::Serialize)]
pub struct Repo(pub u32);

mod shadowed {
    use super::{Repo, User, Value};

    // Local modules named like the standard crates: a relative `core::...` would land here.
    mod core {}
    mod std {}

    // Prelude types, variants, traits and primitives, redefined.
    struct Result;
    struct Option;
    struct Box;
    struct Vec;
    struct String;
    struct Some;
    struct None;
    struct Ok;
    struct Err;
    trait Clone {}
    trait Copy {}
    trait Send {}
    trait Sync {}
    trait Sized {}
    trait Fn {}
    trait FnOnce {}
    trait Future {}
    trait IntoFuture {}
    trait Drop {}
    trait Default {}
    trait Into {}
    trait ToString {}
    struct bool;
    struct u8;
    struct u32;
    struct u64;
    struct usize;
    struct str;

    macro_rules! format_args {
        ($($t:tt)*) => {
            compile_error!("the generated code must call `::core::format_args!`")
        };
    }

    type Name = ::std::string::String;
    type Id = ::core::primitive::u64;

    #[cached_query::cached_query(ttl = "5m", tags = ["users", "user:{id}", "org:{user.org}"])]
    async fn plain(id: Id, user: User) -> Name {
        ::std::format!("{id}{}", user.org)
    }

    #[cached_query::cached_query(cache_none, none_ttl = 5)]
    async fn option(id: Id) -> ::core::option::Option<Name> {
        ::core::option::Option::Some(::std::format!("{id}"))
    }

    #[cached_query::cached_query]
    async fn result(id: Id) -> ::core::result::Result<Id, Name> {
        ::core::result::Result::Ok(id)
    }

    #[cached_query::cached_query(local)]
    async fn local(id: Id) -> ::std::vec::Vec<Id> {
        ::std::vec![id]
    }

    /// A user type named `Result`, cached as a plain value.
    mod custom {
        #[derive(::core::clone::Clone, serde::Serialize, serde::Deserialize)]
        pub struct Result(pub ::core::primitive::u8);
    }

    #[cached_query::cached_query(returns = "value")]
    async fn custom_result(id: ::core::primitive::u8) -> custom::Result {
        custom::Result(id)
    }

    impl Repo {
        #[cached_query::cached_query(tags = ["repo:{self.0}"])]
        async fn method<T: serde::Serialize, const N: ::core::primitive::usize>(
            &self,
            value: T,
        ) -> Value {
            let _ = value;
            Value(N as ::core::primitive::u8)
        }
    }
}

fn main() {}
