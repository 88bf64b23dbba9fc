//! `#[cache_put]`: each read call prepared before the body, the body, then the value stored as
//! each call's entry when the result carries one.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};

use super::parts;
use crate::args::Returns;
use crate::plan::PutPlan;

/// The statements replacing the user's body.
pub(crate) fn body(user_stmts: &[syn::Stmt], plan: &PutPlan) -> TokenStream {
    let ret_span = plan.ret_span;
    let result = Ident::new("__cq_result", Span::mixed_site());
    let value = Ident::new("__cq_value", Span::mixed_site());
    let prepared: Vec<Ident> = (0..plan.calls.len())
        .map(|i| Ident::new(&format!("__cq_put_{i}"), Span::mixed_site()))
        .collect();

    // Made before the body runs, with the arguments as the function received them (the body
    // may move or change them); the read function's body does not run. Spanned at the call, so
    // an error in it points there.
    let prepare = plan.calls.iter().zip(&prepared).map(|(call, slot)| {
        let span = syn::spanned::Spanned::span(call);
        let krate = plan.krate.at(span);
        quote_spanned! {span=>
            let #slot = #krate::__private::prepare_put(#call).await;
        }
    });
    // Spanned at the return type: a value the read function does not cache is reported there.
    let krate = plan.krate.at(ret_span);
    // The arguments located there too. (rustc still puts the primary span of an unmet
    // `PutTarget` on the attribute, which names the read call, and marks the return type.)
    let stores = prepared.iter().map(|slot| {
        let slot = Ident::new(&slot.to_string(), Span::mixed_site().located_at(ret_span));
        let value = Ident::new(&value.to_string(), Span::mixed_site().located_at(ret_span));
        let stored = Ident::new("__cq_stored", Span::mixed_site().located_at(ret_span));
        quote_spanned! {ret_span=>
            let #stored = ::core::clone::Clone::clone(#value);
            #krate::__private::store_put(#slot, #stored).await;
        }
    });
    let located = Ident::new("__cq_result", Span::mixed_site().located_at(ret_span));
    let store = match plan.policy {
        Returns::Result => quote_spanned! {ret_span=>
            if let ::core::result::Result::Ok(#value) = &#located {
                #(#stores)*
            }
        },
        Returns::Option => quote_spanned! {ret_span=>
            if let ::core::option::Option::Some(#value) = &#located {
                #(#stores)*
            }
        },
        Returns::Value => quote_spanned! {ret_span=>
            let #value = &#located;
            #(#stores)*
        },
    };
    let user_body = parts::user_body(user_stmts, &plan.ret_ty, ret_span);
    quote! {
        #(#prepare)*
        let #result = #user_body.await;
        #store
        #result
    }
}
