//! `#[cache_invalidate]`: the tags formatted before the body, the body, then the invalidation
//! when the plan says so.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};

use super::parts;
use crate::plan::{InvalidatePlan, When};
use crate::tags::TagTokens;

/// The statements replacing the user's body.
pub(crate) fn body(user_stmts: &[syn::Stmt], plan: &InvalidatePlan) -> TokenStream {
    let krate = &plan.krate;
    let ret_span = plan.ret_span;
    let tags = Ident::new("__cq_tags", Span::mixed_site());
    let result = Ident::new("__cq_result", Span::mixed_site());

    // `String`s of the tags, formatted from the arguments; each spanned at its literal.
    let tag_strings = plan.tags.iter().map(|tag| match tag.emit() {
        TagTokens::Plain(text) => {
            quote_spanned!(text.span()=> ::std::string::String::from(#text))
        }
        TagTokens::Format(args) => quote_spanned!(tag.lit.span()=> ::std::format!(#args)),
    });
    // An error of the invalidation only concerns the shared store (the in-memory tags are
    // always bumped first): it is not the caller's failure, so it is dropped.
    let invalidate = quote! {
        let _ = #krate::invalidate_tags(#tags).await;
    };
    let user_body = parts::user_body(user_stmts, &plan.ret_ty, ret_span);

    let rest = match plan.when {
        When::Before => quote! {
            #invalidate
            #user_body.await
        },
        When::AfterOk => {
            // Located at the return type, so `returns = "result"` on a type that is not a
            // `Result` is reported there.
            let located = Ident::new("__cq_result", Span::mixed_site().located_at(ret_span));
            let is_ok = quote_spanned!(ret_span=> ::core::result::Result::is_ok(&#located));
            quote! {
                #[allow(clippy::let_unit_value)]
                let #result = #user_body.await;
                if #is_ok {
                    #invalidate
                }
                #result
            }
        }
        When::AfterReturn => quote! {
            #[allow(clippy::let_unit_value)]
            let #result = #user_body.await;
            #invalidate
            #result
        },
    };

    // Formatted before the body runs: the body may move or change the arguments.
    quote! {
        let #tags: ::std::vec::Vec<::std::string::String> = ::std::vec![#(#tag_strings),*];
        #rest
    }
}
