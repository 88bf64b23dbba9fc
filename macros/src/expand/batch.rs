//! `#[cached_query(batch)]`: the call site, the keys the items share, `enter_batch`, each
//! missing item's tags, then the body, called with the items left to compute.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;

use super::cached::{condition, key_stmt, tag_stmts};
use super::parts;
use crate::plan::{BatchPlan, Plan};

/// The statements replacing the user's body.
pub(crate) fn body(user_stmts: &[syn::Stmt], plan: &Plan, batch: &BatchPlan) -> TokenStream {
    let krate = &plan.krate;
    let ret_ty = &plan.ret_ty;
    let mixed = |name: &str| Ident::new(name, Span::mixed_site());
    let (site, key, instance) = (
        mixed("__cq_site"),
        mixed("__cq_key"),
        mixed("__cq_instance"),
    );
    let (entering, miss) = (mixed("__cq_batch"), mixed("__cq_miss"));

    let site_config = plan.site.literal(krate);
    let key_stmts = plan.key_parts.iter().map(|part| key_stmt(part, &key));
    let condition = condition(plan, &key);
    let enter = enter(plan, batch, [&site, &key, &entering, &instance]);
    let tags = (!plan.tags.is_empty()).then(|| {
        let item = &batch.item;
        let tag_stmts = tag_stmts(plan, &miss);
        quote! {
            #entering.tag_items(|#miss, #item| {
                #(#tag_stmts)*
            });
        }
    });
    let merge = batch.merge.as_ref().map(|merge| {
        let (window, max) = (merge.window_ms, merge.max_batch);
        quote_spanned!(merge.span=> #entering.merge(#window, #max);)
    });
    let weighing = plan.local.then(|| {
        let value_ty = &batch.value_ty;
        quote! {
            #entering.weigh_values({
                use #krate::__private::{WeighByEncoding as _, WeighBySize as _, WeighByTrait as _};
                (&&&#krate::__private::ValueProbe::<
                    #krate::__private::OptionPolicy,
                    ::core::option::Option<#value_ty>,
                >::new()).weigher()
            });
        }
    });
    let run = run(user_stmts, plan, batch, &entering);

    quote! {
        let #site = {
            static __CQ_SITE: #krate::__private::Site = #krate::__private::Site::new(#site_config);
            &__CQ_SITE
        };
        let #instance = || {};
        let #key = {
            #[allow(non_snake_case, dead_code)]
            fn __cq_id() {}
            let mut #key = #krate::__private::BatchKeyBuilder::with_instance(#site, __cq_id, #instance);
            #(#key_stmts)*
            #condition
            #key.finish()
        };
        #enter
        #tags
        #merge
        #weighing
        #entering.share_clones({
            use #krate::__private::{ShareByClone as _, ShareNothing as _};
            (&&#krate::__private::ShareProbe::<#ret_ty>::new()).probe()
        });
        #run
    }
}

/// `let mut __cq_batch = match enter_batch(site, keys, codec, items).await { .. };`
///
/// Each bound is checked once, at the user's token: the item's value (`V`) where the map
/// names it, the map and its policy at the return type, the batch (a collection of the map's
/// keys, which are part of the key) at the batch parameter's type.
fn enter(
    plan: &Plan,
    batch: &BatchPlan,
    [site, key, entering, instance]: [&Ident; 4],
) -> TokenStream {
    let krate = &plan.krate;
    let ret_ty = &plan.ret_ty;
    let (key_ty, value_ty) = (&batch.key_ty, &batch.value_ty);
    let value = Ident::new("__cq_value", Span::mixed_site());

    let value_span = Span::call_site().located_at(value_ty.span());
    let krate_at_value = krate.at(value_span);
    let codec = Ident::new(
        if plan.local {
            "codec_local_for"
        } else {
            "codec_for"
        },
        value_span,
    );
    let item_codec = quote_spanned! {value_span=>
        #krate_at_value::__private::#codec::<
            #krate_at_value::__private::OptionPolicy,
            ::core::option::Option<#value_ty>,
            _,
        >(#instance)
    };
    let map_span = Span::call_site().located_at(ret_ty.span());
    let krate_at_map = krate.at(map_span);
    let policy = Ident::new(batch.policy.type_name(), map_span);
    let batch_codec = quote_spanned! {map_span=>
        #krate_at_map::__private::batch_codec_for::<
            #krate_at_map::__private::#policy,
            #ret_ty,
            #key_ty,
            #value_ty,
        >(#item_codec)
    };
    let param = &batch.param;
    let items_span = Span::call_site().located_at(batch.param_ty_span);
    let krate_at_items = krate.at(items_span);
    // `K` as written in the map, re-spanned: its bounds (in the key, the batch's item) are
    // reported at the batch parameter, whose items they are.
    let key_at_items = respanned(key_ty.to_token_stream(), items_span);
    let items = quote_spanned! {items_span=>
        #krate_at_items::__private::batch_items::<#key_at_items, _, _>(#param, #instance)
    };
    quote_spanned! {value_span=>
        let mut #entering = match #krate::__private::enter_batch(
            #site,
            #key,
            #batch_codec,
            #items,
        ).await {
            #krate::__private::BatchEnter::Hit(#value) => return #value,
            #krate::__private::BatchEnter::Miss(#entering) => #entering,
        };
    }
}

/// `__cq_batch.run(move |__cq_claimed| async move { let ids = ..; <user body> }).await`: the
/// body sees the items it computes under the batch parameter's own name and type (borrowed
/// from an owned collection when the parameter is a reference).
fn run(user_stmts: &[syn::Stmt], plan: &Plan, batch: &BatchPlan, entering: &Ident) -> TokenStream {
    let claimed = Ident::new("__cq_claimed", Span::mixed_site());
    let storage = Ident::new("__cq_storage", Span::mixed_site());
    let (param, param_ty) = (&batch.param, &batch.param_ty);
    let mutability = batch.mutable.then(|| quote!(mut));
    let prelude = if batch.borrowed {
        quote! {
            let #storage = #claimed;
            let #mutability #param: #param_ty = &#storage;
        }
    } else {
        quote!(let #mutability #param: #param_ty = #claimed;)
    };
    let ret_ty = &plan.ret_ty;
    let user_body = parts::user_body_after(prelude, user_stmts, ret_ty, ret_ty.span());
    quote! {
        #entering.run(move |#claimed| #user_body).await
    }
}

/// `tokens`, every one spanned at `span`.
fn respanned(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respanned(group.stream(), span));
                inner.set_span(span);
                token = proc_macro2::TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}
