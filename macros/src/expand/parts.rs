//! Pieces both attributes emit: the user's body behind the fake return edge.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::Type;

/// `async move { <fake return edge> { <user statements> } }`.
///
/// The fake return edge is an unreachable, correctly typed `return` spanned at the declared
/// return type: it fixes the block's output type before the user's statements are checked, so a
/// type error in the body points at the body ("return type inferred to be `T` here") instead of
/// at the attribute.
pub(crate) fn user_body(user_stmts: &[syn::Stmt], ret_ty: &Type, ret_span: Span) -> TokenStream {
    user_body_after(TokenStream::new(), user_stmts, ret_ty, ret_span)
}

/// [`user_body`], with `prelude` (statements that bind what the body sees) first.
pub(crate) fn user_body_after(
    prelude: TokenStream,
    user_stmts: &[syn::Stmt],
    ret_ty: &Type,
    ret_span: Span,
) -> TokenStream {
    // Located at the return type so "return type inferred to be `T` here" points at it.
    let fake_return = Ident::new("__cq_fake_return", Span::mixed_site().located_at(ret_span));
    let fake_return_edge = quote_spanned! {ret_span=>
        #[allow(unreachable_code, unused, clippy::diverging_sub_expression, clippy::let_unit_value,
                clippy::unreachable, clippy::empty_loop, clippy::needless_return)]
        if false { let #fake_return: #ret_ty = loop {}; return #fake_return; }
    };
    quote! {
        async move {
            #prelude
            #fake_return_edge
            { #(#user_stmts)* }
        }
    }
}
