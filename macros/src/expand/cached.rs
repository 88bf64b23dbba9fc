//! `#[cached_query]`: the call site, the key, `enter`, the miss's options, then the body.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::parts;
use crate::plan::{KeyPart, Plan};
use crate::tags::TagTokens;

/// The statements replacing the user's body.
pub(crate) fn body(user_stmts: &[syn::Stmt], plan: &Plan) -> TokenStream {
    if let Some(batch) = &plan.batch {
        return super::batch::body(user_stmts, plan, batch);
    }
    let krate = &plan.krate;
    let ret_ty = &plan.ret_ty;
    let mixed = |name: &str| Ident::new(name, Span::mixed_site());
    let site = mixed("__cq_site");
    let key = mixed("__cq_key");
    let miss = mixed("__cq_miss");
    let instance = mixed("__cq_instance");

    let site_config = plan.site.literal(krate);
    let key_stmts = plan.key_parts.iter().map(|part| key_stmt(part, &key));
    let condition = condition(plan, &key);
    let enter = enter(plan, [&site, &key, &miss, &instance]);
    let tag_stmts = tag_stmts(plan, &miss);
    let miss_options = miss_options(plan, &miss);
    // `stale_while_revalidate`: the body may run in a background task, so it must be `Send +
    // 'static`; a violation is reported at the option.
    let run = match plan.revalidate {
        Some(span) => Ident::new("run_or_revalidate", span),
        None => Ident::new("run", Span::call_site()),
    };
    let user_body = parts::user_body(user_stmts, ret_ty, ret_ty.span());

    // The helper items (`__CQ_SITE`, `__cq_id`) live in blocks next to the user's body, not
    // around it, so the body can't name them (`mixed_site` hides only locals).
    quote! {
        // The task's tokio budget, spent before anything is held across an await: a hit then
        // returns from the lookup's own answer, with no other future built or moved.
        #krate::__private::cooperate().await;
        let #site = {
            static __CQ_SITE: #krate::__private::Site = #krate::__private::Site::new(#site_config);
            &__CQ_SITE
        };
        // Its type names the instantiation running (impl and function generics, the
        // implementing type of a trait default body), and marks the bounds checked below.
        let #instance = || {};
        let #key = {
            #[allow(non_snake_case, dead_code)]
            fn __cq_id() {}
            let mut #key = #krate::__private::KeyBuilder::with_instance(#site, __cq_id, #instance);
            #(#key_stmts)*
            #condition
            #key.finish()
        };
        #enter
        #(#tag_stmts)*
        #miss_options
        #miss.share_clones({
            use #krate::__private::{ShareByClone as _, ShareNothing as _};
            (&&#krate::__private::ShareProbe::<#ret_ty>::new()).probe()
        });
        #miss.#run(#user_body).await
    }
}

/// `__cq_miss.tag(..)`, `__cq_miss.tag_fmt(format_args!(..))`, each spanned at its literal.
pub(super) fn tag_stmts(plan: &Plan, miss: &Ident) -> Vec<TokenStream> {
    let tag = |tag: &crate::tags::TagTemplate| match tag.emit() {
        TagTokens::Plain(text) => quote_spanned!(text.span()=> #miss.tag(#text);),
        TagTokens::Format(args) => {
            quote_spanned!(tag.lit.span()=> #miss.tag_fmt(::core::format_args!(#args));)
        }
    };
    plan.tags.iter().map(tag).collect()
}

/// `condition`: evaluated where the parameters are still in scope, before the body moves them;
/// spanned at the user's expression so a non-`bool` is reported there. Bound first, then
/// negated: `!(a && !b)` around the user's expression would trip clippy's `nonminimal_bool` in
/// their code.
pub(super) fn condition(plan: &Plan, key: &Ident) -> Option<TokenStream> {
    plan.condition.as_ref().map(|expr| {
        let included = Ident::new("__cq_included", Span::mixed_site());
        quote_spanned! {expr.span()=>
            let #included: bool = #expr;
            if !#included {
                #key.skip_cache();
            }
        }
    })
}

/// `let mut __cq_miss = match enter(site, key, codec) { Hit => return, Miss(m) => m, .. };`
///
/// The value-type bounds live on `codec` alone, so an unstorable return type is one error,
/// spanned at the stored type (`T` of `Result<T, E>`, else the return type); `enter` itself has
/// no bounds to fail again. On stable that is the type's first token (spans can't be joined).
fn enter(plan: &Plan, [site, key, miss, instance]: [&Ident; 4]) -> TokenStream {
    let krate = &plan.krate;
    let ret_ty = &plan.ret_ty;
    let value = Ident::new("__cq_value", Span::mixed_site());
    let enter_span = Span::call_site().located_at(plan.value_ty.span());
    let codec = if plan.local {
        "codec_local_for"
    } else {
        "codec_for"
    };
    let codec = Ident::new(codec, enter_span);
    let policy = Ident::new(plan.policy.type_name(), enter_span);
    let krate_at_ret = krate.at(enter_span);
    let mut codec = quote_spanned! {enter_span=>
        #krate_at_ret::__private::#codec::<#krate_at_ret::__private::#policy, #ret_ty, _>(#instance)
    };
    if plan.cache_err.is_some() {
        // The error type's bounds, spanned at `E` (or the return type, for an alias).
        let err_span = Span::call_site().located_at(plan.error_ty.span());
        let krate_at_err = krate.at(err_span);
        let caching_errors = Ident::new("caching_errors", err_span);
        codec = quote_spanned!(err_span=> #krate_at_err::__private::#caching_errors(#codec));
    }
    quote_spanned! {enter_span=>
        let mut #miss = match #krate::__private::enter(
            #site,
            #key,
            #codec,
        ) {
            #krate::__private::Enter::Hit(#value) => return #value,
            #krate::__private::Enter::Miss(#miss) => #miss,
        };
    }
}

/// `unless`, `result_tags` and `cache_err`: what the miss does with the result.
fn miss_options(plan: &Plan, miss: &Ident) -> TokenStream {
    let ret_ty = &plan.ret_ty;
    // `unless`: a closure or a path, coerced to a `fn` pointer taking the return type.
    let unless = plan.unless.as_ref().map(|expr| {
        let predicate = Ident::new("__cq_unless", Span::mixed_site());
        quote_spanned! {expr.span()=>
            #miss.unless({
                let #predicate: fn(&#ret_ty) -> bool = #expr;
                #predicate
            });
        }
    });
    // `result_tags` and `cache_err`: the user's closure or path, called through a generic helper
    // so that a closure's parameter type is inferred from the return type; the wrapping closure
    // captures nothing and coerces to the `fn` pointer the runtime keeps.
    let result_tags = plan.result_tags.as_ref().map(|expr| {
        let result = Ident::new("__cq_result", Span::mixed_site());
        let sink = Ident::new("__cq_sink", Span::mixed_site());
        let policy = Ident::new(plan.policy.type_name(), expr.span());
        let krate = plan.krate.at(expr.span());
        quote_spanned! {expr.span()=>
            #miss.result_tags(|#result: &#ret_ty, #sink: &mut #krate::__private::ResultTags| {
                #krate::__private::tags_from::<#krate::__private::#policy, #ret_ty, _, _>(#result, #sink, #expr)
            });
        }
    });
    let cache_err = plan.cache_err.as_ref().map(|expr| {
        let result = Ident::new("__cq_result", Span::mixed_site());
        let krate = plan.krate.at(expr.span());
        quote_spanned! {expr.span()=>
            #miss.cache_err(|#result: &#ret_ty| #krate::__private::error_matches(#result, #expr));
        }
    });
    let weighing = weighing(plan, miss);
    quote! {
        #unless
        #result_tags
        #cache_err
        #weighing
    }
}

/// What stored values and errors weigh, for the byte bound: a `local` function's values and
/// cached errors have no encoded size, so the runtime probes their type (its `Weigh` impl, else
/// its encoded size, else nothing better than `size_of`). Miss path only.
fn weighing(plan: &Plan, miss: &Ident) -> TokenStream {
    let krate = &plan.krate;
    let ret_ty = &plan.ret_ty;
    let probe = |probe: TokenStream| {
        quote! {{
            use #krate::__private::{WeighByEncoding as _, WeighBySize as _, WeighByTrait as _};
            (&&&#probe::new()).weigher()
        }}
    };
    let values = plan.local.then(|| {
        let policy = Ident::new(plan.policy.type_name(), Span::call_site());
        let probe =
            probe(quote!(#krate::__private::ValueProbe::<#krate::__private::#policy, #ret_ty>));
        quote!(#miss.weigh_values(#probe);)
    });
    let errors = plan.cache_err.as_ref().map(|_| {
        let probe = probe(quote!(#krate::__private::ErrorProbe::<#ret_ty>));
        quote!(#miss.weigh_errors(#probe);)
    });
    quote!(#values #errors)
}

pub(super) fn key_stmt(part: &KeyPart, key: &Ident) -> TokenStream {
    match part {
        KeyPart::Receiver {
            self_token,
            by_value: true,
        } => {
            quote_spanned!(self_token.span=> #key.receiver(&#self_token);)
        }
        KeyPart::Receiver {
            self_token,
            by_value: false,
        } => {
            quote_spanned!(self_token.span=> #key.receiver(&*#self_token);)
        }
        KeyPart::Arg { ident, ty_span } => quote_spanned!(*ty_span=> #key.arg(&#ident);),
        KeyPart::Item => quote!(#key.item_here();),
    }
}
