//! The options the runtime reads from a call site's `SiteConfig`, taken from the arguments and
//! emitted as its literal. A new site option is one field of `CachedQueryArgs`, one line in
//! `SiteOptions::of`, and one field of the runtime's `SiteConfig`.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

use crate::args::{CachedQueryArgs, Duration};
use crate::plan::{Krate, some_or_none};

/// `SiteConfig`'s fields, in declaration order, each with its value's tokens.
pub(crate) struct SiteOptions(Vec<(&'static str, TokenStream)>);

impl SiteOptions {
    /// The fields, from the parsed arguments.
    pub(crate) fn of(args: &CachedQueryArgs) -> Self {
        let millis = |d: Option<Duration>| some_or_none(d.map(|d| Literal::u64_suffixed(d.millis)));
        let flag = |present: bool| if present { quote!(true) } else { quote!(false) };
        let version = Literal::u32_suffixed(args.version.unwrap_or(0));
        Self(vec![
            ("name", some_or_none(args.name.as_ref())),
            ("store", some_or_none(args.store.as_ref())),
            ("version", quote!(#version)),
            ("ttl_ms", millis(args.ttl)),
            // A batch caches the items its body leaves out, unless `cache_none = false`.
            (
                "cache_none",
                flag(
                    args.cache_none.is_present()
                        || (args.batch.is_some() && args.cache_none.turned_off().is_none()),
                ),
            ),
            ("none_ttl_ms", millis(args.none_ttl)),
            ("stale_if_error_ms", millis(args.stale_if_error)),
            ("min_compute_ms", millis(args.min_compute)),
            ("revalidate_ms", millis(args.stale_while_revalidate)),
            (
                "early_refresh",
                some_or_none(args.early_refresh.map(|e| Literal::f64_suffixed(e.beta))),
            ),
            ("err_ttl_ms", millis(args.err_ttl)),
        ])
    }

    /// `#krate::__private::SiteConfig { name: .., .. }`.
    pub(crate) fn literal(&self, krate: &Krate) -> TokenStream {
        let names = self
            .0
            .iter()
            .map(|(name, _)| Ident::new(name, Span::call_site()));
        let values = self.0.iter().map(|(_, value)| value);
        quote!(#krate::__private::SiteConfig { #(#names: #values,)* })
    }
}
