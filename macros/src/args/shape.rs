//! What each option looks like, for the errors that say so: a value of the wrong shape (a
//! string where a list goes, `local = true` for a flag) is answered with the option's own
//! example, in the user's words rather than darling's.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::Meta;

/// Each option with the example its errors quote.
const EXAMPLES: &[(&str, &str)] = &[
    ("ttl", "ttl = \"5m\""),
    ("tags", "tags = [\"users\", \"user:{id}\"]"),
    ("skip", "skip(db)"),
    ("version", "version = 2"),
    ("name", "name = \"users.get\""),
    ("crate", "crate = ::my_lib::cached_query"),
    ("local", "local"),
    ("store", "store = \"catalog\""),
    ("returns", "returns = \"result\""),
    ("cache_none", "cache_none"),
    ("none_ttl", "none_ttl = \"30s\""),
    ("stale_if_error", "stale_if_error = \"10m\""),
    ("stale_while_revalidate", "stale_while_revalidate = \"1m\""),
    ("early_refresh", "early_refresh = 2.0"),
    ("condition", "condition = id > 0"),
    ("unless", "unless = |user| user.is_none()"),
    ("min_compute", "min_compute = \"5ms\""),
    (
        "result_tags",
        "result_tags = |users| users.iter().map(|u| format!(\"user:{}\", u.id))",
    ),
    ("cache_err", "cache_err = |e| e.is_not_found()"),
    ("err_ttl", "err_ttl = \"30s\""),
    ("before", "before"),
    ("batch", "batch(ids as id)"),
    ("merge", "merge = \"2ms\""),
    ("max_batch", "max_batch = 500"),
];

/// The option's name as written: `ttl` in `ttl = 60`.
pub(crate) fn option_name(meta: &Meta) -> String {
    meta.path().to_token_stream().to_string().replace(' ', "")
}

/// The example of `option`, e.g. `ttl = "5m"`.
pub(crate) fn example(option: &str) -> String {
    EXAMPLES
        .iter()
        .find(|(name, _)| *name == option)
        .map_or_else(|| option.to_owned(), |(_, example)| (*example).to_owned())
}

/// The value of `name = value`, else the whole item: what a shape error points at.
pub(crate) fn value_tokens(meta: &Meta) -> TokenStream {
    match meta {
        Meta::NameValue(nv) => nv.value.to_token_stream(),
        other => other.to_token_stream(),
    }
}

/// "`ttl` takes a duration: write `ttl = "5m"`", spanned at the value.
pub(crate) fn error(meta: &Meta, takes: &str) -> darling::Error {
    let name = option_name(meta);
    let example = example(&name);
    darling::Error::custom(format!("`{name}` takes {takes}: write `{example}`"))
        .with_span(&value_tokens(meta))
}
