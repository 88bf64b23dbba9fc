//! What `validate` decides and `expand` emits: every decision made, nothing left to infer.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::{Token, Type};

use crate::args::Returns;
use crate::site_config::SiteOptions;
use crate::tags::TagTemplate;

/// The path generated code names the facade by: the user's `crate = ...`, else
/// `::cached_query`. Resolved once, here.
pub(crate) struct Krate(Option<syn::Path>);

impl Krate {
    /// From the `crate = ...` option, if any.
    pub(crate) fn new(user: Option<&syn::Path>) -> Self {
        Self(user.cloned())
    }

    /// The path, the default spanned at `span` (so an error in a `__private` call made from
    /// there points at the user's token); the user's path keeps its own spans.
    pub(crate) fn at(&self, span: Span) -> TokenStream {
        match &self.0 {
            Some(path) => path.to_token_stream(),
            None => quote_spanned!(span=> ::cached_query),
        }
    }
}

impl ToTokens for Krate {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(self.at(Span::call_site()));
    }
}

/// One statement of the key builder, in emission order. The function's identity and, in a
/// generic body, its instantiation (type and const arguments, `impl Trait` argument types, the
/// implementing type of a trait default body) are folded in by the runtime from names, not
/// here.
pub(crate) enum KeyPart {
    /// `__cq_key.receiver(&*self)` / `(&self)`, spanned at `self`.
    Receiver {
        /// The user's `self` token.
        self_token: Token![self],
        /// `self` by value: no deref.
        by_value: bool,
    },
    /// `__cq_key.arg(&ident)`, spanned at the parameter's type.
    Arg {
        /// The binding.
        ident: Ident,
        /// The parameter type's span.
        ty_span: Span,
    },
    /// A batch function's batch parameter: `__cq_key.item_here()`, where each item's bytes go.
    Item,
}

/// Everything `expand` needs for `#[cached_query]`, fully decided.
pub(crate) struct Plan {
    /// The facade's path.
    pub(crate) krate: Krate,
    /// The options the runtime reads from the call site's `SiteConfig`.
    pub(crate) site: SiteOptions,
    /// `stale_while_revalidate`: where the option is written (the background call's
    /// `Send`/`'static` errors are reported there).
    pub(crate) revalidate: Option<Span>,
    /// `result_tags = <closure or path>`.
    pub(crate) result_tags: Option<syn::Expr>,
    /// `cache_err = <closure or path>`.
    pub(crate) cache_err: Option<syn::Expr>,
    /// `condition = <expr>`.
    pub(crate) condition: Option<syn::Expr>,
    /// `unless = <closure or path>`.
    pub(crate) unless: Option<syn::Expr>,
    /// `local`: `codec_local` instead of `codec`.
    pub(crate) local: bool,
    /// The return policy.
    pub(crate) policy: Returns,
    /// The declared return type.
    pub(crate) ret_ty: Type,
    /// The part of the return type that is stored (`T` of `Result<T, E>` / `Option<T>`, or the
    /// whole type): value-type errors are spanned on it.
    pub(crate) value_ty: Type,
    /// `E` of `Result<T, E>` when spelled that way, else the return type: `cache_err`'s
    /// error-type bounds are spanned on it.
    pub(crate) error_ty: Type,
    /// Key builder statements.
    pub(crate) key_parts: Vec<KeyPart>,
    /// Tag templates.
    pub(crate) tags: Vec<TagTemplate>,
    /// `batch`: what the batch expansion needs besides the above.
    pub(crate) batch: Option<BatchPlan>,
}

/// A batch function (`#[cached_query(batch)]`), fully decided.
pub(crate) struct BatchPlan {
    /// The batch parameter's binding, as the user wrote it.
    pub(crate) param: Ident,
    /// `mut ids`.
    pub(crate) mutable: bool,
    /// The batch parameter's type, lifetimes elided: what the body's share of the items is
    /// bound as.
    pub(crate) param_ty: Type,
    /// Where the parameter's type is written: the batch's bounds are checked there.
    pub(crate) param_ty_span: Span,
    /// A reference (`&[K]`): the body's share is collected into an owned collection first, and
    /// borrowed from it.
    pub(crate) borrowed: bool,
    /// The items' name in tag placeholders (`_` when no tag names it).
    pub(crate) item: Ident,
    /// `K` of the returned map.
    pub(crate) key_ty: Type,
    /// `V` of the returned map: what each item's entry holds.
    pub(crate) value_ty: Type,
    /// `Result<Map, E>` or the map itself.
    pub(crate) policy: Returns,
    /// `merge = ..` (and `max_batch`).
    pub(crate) merge: Option<Merge>,
}

/// `merge = "2ms", max_batch = 500`.
pub(crate) struct Merge {
    pub(crate) window_ms: u64,
    pub(crate) max_batch: u32,
    /// Where `merge` is written: its bounds (`K: Clone + Send + 'static`) are checked there.
    pub(crate) span: Span,
}

/// When `#[cache_invalidate]` invalidates its tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// `before`: before the body runs, whatever it returns.
    Before,
    /// After the body returned `Ok` (a `Result` return type, or `returns = "result"`).
    AfterOk,
    /// After every return (`returns = "value"`, or a type that is not a `Result`).
    AfterReturn,
}

/// Everything `expand` needs for `#[cache_invalidate]`, fully decided.
pub(crate) struct InvalidatePlan {
    /// The facade's path.
    pub(crate) krate: Krate,
    /// When the tags are invalidated.
    pub(crate) when: When,
    /// The return type for the fake return edge: `()` when none is declared, `_` when it
    /// mentions `impl Trait` (which can't be spelled in a `let`).
    pub(crate) ret_ty: Type,
    /// Where the return type is (the function's name when none is declared).
    pub(crate) ret_span: Span,
    /// Tag templates.
    pub(crate) tags: Vec<TagTemplate>,
}

/// Everything `#[cache_put]`'s expansion needs.
pub(crate) struct PutPlan {
    /// The facade's path.
    pub(crate) krate: Krate,
    /// The read calls whose entries the value replaces, as written.
    pub(crate) calls: Vec<syn::Expr>,
    /// Which results carry a value to store (`Ok`, `Some`, or every one).
    pub(crate) policy: crate::args::Returns,
    /// The return type for the fake return edge (as for `InvalidatePlan`).
    pub(crate) ret_ty: Type,
    /// Where the return type is.
    pub(crate) ret_span: Span,
}

/// `::core::option::Option::Some(#value)` or `::core::option::Option::None`.
pub(crate) fn some_or_none<T: ToTokens>(value: Option<T>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}
