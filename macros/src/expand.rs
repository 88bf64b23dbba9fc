//! Code generation for both attributes, following `docs/expansion-contract.md` to the letter.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Block, LitStr};

use crate::args::{CacheInvalidateArgs, CachedQueryArgs};
use crate::error::{self, Errors};
use crate::input::{self, Input};
use crate::tags::TagTemplate;
use crate::validate::{self, InvalidatePlan, KeyPart, Plan, Policy};

/// Entry point behind the `#[cached_query]` shim.
pub(crate) fn cached_query(args: TokenStream, item: TokenStream) -> TokenStream {
    try_expand(args, item.clone()).unwrap_or_else(|errors| error::fallback(errors, item))
}

/// Parses, validates and expands; `Err` holds every error found.
pub(crate) fn try_expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    pipeline(
        "`#[cached_query]`",
        args,
        item,
        CachedQueryArgs::parse,
        validate::validate,
        body,
    )
}

/// The pipeline both attributes share: the arguments and the function are parsed (errors
/// accumulated), validated into a plan, and the body's statements are replaced in place by
/// `body`'s (keeping the user's attributes, signature, brace token and inner attributes).
fn pipeline<A, P>(
    attribute: &str,
    args: TokenStream,
    item: TokenStream,
    parse_args: fn(TokenStream) -> darling::Result<A>,
    validate: fn(Option<&A>, &Input, &mut Errors) -> Option<P>,
    body: fn(&[syn::Stmt], &P) -> TokenStream,
) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = parse_args(args).map_err(|e| errors.push_darling(e)).ok();
    let input = input::parse(item).map_err(|e| errors.push(e)).ok();
    let plan = input
        .as_ref()
        .and_then(|input| validate(args.as_ref(), input, &mut errors));
    errors.finish()?;
    match (input, plan) {
        (Some(Input::Fn(mut input)), Some(plan)) => {
            let user_stmts = std::mem::take(&mut input.item.block.stmts);
            input.item.block.stmts = Block::parse_within.parse2(body(&user_stmts, &plan))?;
            let item = &input.item;
            Ok(quote!(#item))
        }
        // Validation returns no plan only after recording an error.
        _ => Err(syn::Error::new(
            Span::call_site(),
            format!("{attribute} failed to expand this function (this is a bug in `cached-query`)"),
        )),
    }
}

fn body(user_stmts: &[syn::Stmt], plan: &Plan) -> TokenStream {
    let ret_ty = &plan.ret_ty;
    let ret_span = ret_ty.span();
    let krate_at = |span: Span| match &plan.krate {
        Some(path) => quote!(#path),
        None => quote_spanned!(span=> ::cached_query),
    };
    let krate = krate_at(Span::call_site());

    let mixed = |name: &str| Ident::new(name, Span::mixed_site());
    let site = mixed("__cq_site");
    let key = mixed("__cq_key");
    let miss = mixed("__cq_miss");
    let value = mixed("__cq_value");
    // Located at the return type so "return type inferred to be `T` here" points at it.
    let fake_return = Ident::new("__cq_fake_return", Span::mixed_site().located_at(ret_span));

    let name = some_or_none(plan.name.as_ref());
    let store = some_or_none(plan.store.as_ref());
    let version = Literal::u32_suffixed(plan.version);
    let opt_ms = |ms: Option<u64>| some_or_none(ms.map(Literal::u64_suffixed));
    let ttl_ms = opt_ms(plan.ttl_ms);
    let none_ttl_ms = opt_ms(plan.none_ttl_ms);
    let stale_if_error_ms = opt_ms(plan.stale_if_error_ms);
    let min_compute_ms = opt_ms(plan.min_compute_ms);
    let revalidate_ms = opt_ms(plan.revalidate.map(|(ms, _)| ms));
    let early_refresh = some_or_none(plan.early_refresh.map(Literal::f64_suffixed));
    // `condition`: evaluated where the parameters are still in scope, before the body moves
    // them; spanned at the user's expression so a non-`bool` is reported there.
    // Bound first, then negated: `!(a && !b)` around the user's expression would trip
    // clippy's `nonminimal_bool` in their code.
    let condition = plan.condition.as_ref().map(|expr| {
        let included = Ident::new("__cq_included", Span::mixed_site());
        quote_spanned! {expr.span()=>
            let #included: bool = #expr;
            if !#included {
                #key.skip_cache();
            }
        }
    });
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
        let krate = krate_at(expr.span());
        quote_spanned! {expr.span()=>
            #miss.result_tags(|#result: &#ret_ty, #sink: &mut #krate::__private::ResultTags| {
                #krate::__private::tags_from::<#krate::__private::#policy, #ret_ty, _, _>(#result, #sink, #expr)
            });
        }
    });
    let cache_err = plan.cache_err.as_ref().map(|expr| {
        let result = Ident::new("__cq_result", Span::mixed_site());
        let krate = krate_at(expr.span());
        quote_spanned! {expr.span()=>
            #miss.cache_err(|#result: &#ret_ty| #krate::__private::error_matches(#result, #expr));
        }
    });
    let err_ttl_ms = opt_ms(plan.err_ttl_ms);
    let cache_none = plan.cache_none;

    let key_stmts = plan.key_parts.iter().map(|part| key_stmt(part, &key));

    // The value-type bounds live on `codec` alone, so an unstorable return type is one error,
    // spanned at the stored type (`T` of `Result<T, E>`, else the return type); `enter` itself
    // has no bounds to fail again. On stable that is the type's first token (spans can't be
    // joined).
    let enter_span = Span::call_site().located_at(plan.value_ty.span());
    let codec = Ident::new(if plan.local { "codec_local" } else { "codec" }, enter_span);
    let policy = Ident::new(plan.policy.type_name(), enter_span);
    let krate_at_ret = krate_at(enter_span);
    let mut codec = quote_spanned! {enter_span=>
        #krate_at_ret::__private::#codec::<#krate_at_ret::__private::#policy, #ret_ty>()
    };
    if plan.cache_err.is_some() {
        // The error type's bounds, spanned at `E` (or the return type, for an alias).
        let err_span = Span::call_site().located_at(plan.error_ty.span());
        let krate_at_err = krate_at(err_span);
        let caching_errors = Ident::new("caching_errors", err_span);
        codec = quote_spanned!(err_span=> #krate_at_err::__private::#caching_errors(#codec));
    }
    let enter_stmt = quote_spanned! {enter_span=>
        let mut #miss = match #krate::__private::enter(
            #site,
            #key,
            #codec,
        ).await {
            #krate::__private::Enter::Hit(#value) => return #value,
            #krate::__private::Enter::Miss(#miss) => #miss,
        };
    };

    let tag_stmts = plan.tags.iter().map(|tag| {
        let span = tag.lit.span();
        match tag.plain_text() {
            Some(text) => {
                let text = LitStr::new(&text, span);
                quote_spanned!(span=> #miss.tag(#text);)
            }
            None => {
                let fmt = LitStr::new(&tag.format_string(), span);
                let args = tag.placeholders().map(|p| p.to_expr(span));
                quote_spanned!(span=> #miss.tag_fmt(::core::format_args!(#fmt #(, #args)*));)
            }
        }
    });

    let fake_return_edge = quote_spanned! {ret_span=>
        #[allow(unreachable_code, unused, clippy::diverging_sub_expression, clippy::let_unit_value,
                clippy::unreachable, clippy::empty_loop, clippy::needless_return)]
        if false { let #fake_return: #ret_ty = loop {}; return #fake_return; }
    };

    // `stale_while_revalidate`: the body may run in a background task, so it must be `Send +
    // 'static`; a violation is reported at the option.
    let run = match plan.revalidate {
        Some((_, span)) => Ident::new("run_or_revalidate", span),
        None => Ident::new("run", Span::call_site()),
    };

    // The helper items (`__CQ_SITE`, `__cq_id`) live in blocks next to the user's body, not
    // around it, so the body can't name them (`mixed_site` hides only locals).
    quote! {
        let #site = {
            static __CQ_SITE: #krate::__private::Site = #krate::__private::Site::new(#krate::__private::SiteConfig {
                name: #name,
                store: #store,
                version: #version,
                ttl_ms: #ttl_ms,
                cache_none: #cache_none,
                none_ttl_ms: #none_ttl_ms,
                stale_if_error_ms: #stale_if_error_ms,
                min_compute_ms: #min_compute_ms,
                revalidate_ms: #revalidate_ms,
                early_refresh: #early_refresh,
                err_ttl_ms: #err_ttl_ms,
            });
            &__CQ_SITE
        };
        let #key = {
            #[allow(non_snake_case, dead_code)]
            fn __cq_id() {}
            let mut #key = #krate::__private::KeyBuilder::new(#site, __cq_id);
            #(#key_stmts)*
            #condition
            #key.finish()
        };
        #enter_stmt
        #(#tag_stmts)*
        #unless
        #result_tags
        #cache_err
        #miss.share_clones({
            use #krate::__private::{ShareByClone as _, ShareNothing as _};
            (&&#krate::__private::ShareProbe::<#ret_ty>::new()).probe()
        });
        #miss.#run(async move {
            #fake_return_edge
            { #(#user_stmts)* }
        }).await
    }
}

/// `::core::option::Option::Some(#value)` or `::core::option::Option::None`.
fn some_or_none<T: quote::ToTokens>(value: Option<T>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

fn key_stmt(part: &KeyPart, key: &Ident) -> TokenStream {
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
        KeyPart::TypeParam(ident) => {
            quote!(#key.type_name(::core::any::type_name::<#ident>());)
        }
        KeyPart::ConstParam(ident) => quote!(#key.arg(&#ident);),
        KeyPart::SelfType => quote!(#key.type_name(::core::any::type_name::<Self>());),
        KeyPart::ImplTraitArg(ident) => {
            quote!(#key.type_name(::core::any::type_name_of_val(&#ident));)
        }
    }
}

/// Entry point behind the `#[cache_invalidate]` shim.
pub(crate) fn cache_invalidate(args: TokenStream, item: TokenStream) -> TokenStream {
    try_expand_invalidate(args, item.clone()).unwrap_or_else(|errors| error::fallback(errors, item))
}

/// Parses, validates and expands `#[cache_invalidate]`; `Err` holds every error found.
pub(crate) fn try_expand_invalidate(
    args: TokenStream,
    item: TokenStream,
) -> syn::Result<TokenStream> {
    pipeline(
        "`#[cache_invalidate]`",
        args,
        item,
        CacheInvalidateArgs::parse,
        validate::validate_invalidate,
        invalidate_body,
    )
}

/// `String`s of the tags, formatted from the arguments; each spanned at its literal.
fn tag_strings(tags: &[TagTemplate]) -> impl Iterator<Item = TokenStream> + '_ {
    tags.iter().map(|tag| {
        let span = tag.lit.span();
        match tag.plain_text() {
            Some(text) => {
                let text = LitStr::new(&text, span);
                quote_spanned!(span=> ::std::string::String::from(#text))
            }
            None => {
                let fmt = LitStr::new(&tag.format_string(), span);
                let args = tag.placeholders().map(|p| p.to_expr(span));
                quote_spanned!(span=> ::std::format!(#fmt #(, #args)*))
            }
        }
    })
}

fn invalidate_body(user_stmts: &[syn::Stmt], plan: &InvalidatePlan) -> TokenStream {
    let ret_ty = &plan.ret_ty;
    let ret_span = plan.ret_span;
    let krate = match &plan.krate {
        Some(path) => quote!(#path),
        None => quote!(::cached_query),
    };
    let mixed = |name: &str| Ident::new(name, Span::mixed_site());
    let tags = mixed("__cq_tags");
    let result = mixed("__cq_result");
    let fake_return = Ident::new("__cq_fake_return", Span::mixed_site().located_at(ret_span));

    let tag_strings = tag_strings(&plan.tags);
    let fake_return_edge = quote_spanned! {ret_span=>
        #[allow(unreachable_code, unused, clippy::diverging_sub_expression, clippy::let_unit_value,
                clippy::unreachable, clippy::empty_loop, clippy::needless_return)]
        if false { let #fake_return: #ret_ty = loop {}; return #fake_return; }
    };
    // An error of the invalidation only concerns the shared store (the in-memory tags are
    // always bumped first): it is not the caller's failure, so it is dropped.
    let invalidate = quote! {
        let _ = #krate::invalidate_tags(#tags).await;
    };
    let run_body = quote! {
        async move {
            #fake_return_edge
            { #(#user_stmts)* }
        }.await
    };

    let rest = if plan.before {
        quote! {
            #invalidate
            #run_body
        }
    } else {
        let invalidate = match plan.policy {
            Policy::Result => {
                // Located at the return type, so `returns = "result"` on a type that is not a
                // `Result` is reported there.
                let located = Ident::new("__cq_result", Span::mixed_site().located_at(ret_span));
                let is_ok = quote_spanned!(ret_span=> ::core::result::Result::is_ok(&#located));
                quote! {
                    if #is_ok {
                        #invalidate
                    }
                }
            }
            Policy::Option | Policy::Value => invalidate,
        };
        quote! {
            #[allow(clippy::let_unit_value)]
            let #result = #run_body;
            #invalidate
            #result
        }
    };

    // Formatted before the body runs: the body may move or change the arguments.
    quote! {
        let #tags: ::std::vec::Vec<::std::string::String> = ::std::vec![#(#tag_strings),*];
        #rest
    }
}
