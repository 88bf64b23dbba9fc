//! Checks of the function's shape that do not depend on the options: `async`, not `const`, a
//! body, a storable return type, owned parameters where a background task needs them.

use syn::visit::Visit;
use syn::{ReturnType, Signature, Type};

use crate::error::Errors;
use crate::input::{FnInput, Input, Param};

const OWNED_MSG: &str =
    "cached values must own their data: return an owned type, e.g. `String` instead of `&str`";

/// Which attribute a shared check reports for, and what it does with `async fn`s.
#[derive(Clone, Copy)]
pub(crate) struct Attr {
    /// `cached_query`: the attribute's own name, as the last segment of its path.
    ident: &'static str,
    /// `` `#[cached_query]` ``.
    pub(crate) name: &'static str,
    /// What the attribute does, ending the sentences of the errors: "only memoizes `async fn`s".
    does: &'static str,
    /// Why a `const fn` is rejected.
    const_reason: &'static str,
    /// Why a declaration without a body is rejected, and what to do instead.
    no_body: &'static str,
    /// What to do instead of applying the attribute twice.
    once: &'static str,
}

pub(crate) const CACHED_QUERY: Attr = Attr {
    ident: "cached_query",
    name: "`#[cached_query]`",
    does: "only memoizes `async fn`s",
    const_reason: "only `async fn`s are memoized",
    no_body: "a trait method declaration can't be cached; put the attribute on the method's \
              implementation instead",
    once: "remove this one: a second cache around the first would cache its calls again, \
           under another name, with its own options",
};

pub(crate) const CACHE_INVALIDATE: Attr = Attr {
    ident: "cache_invalidate",
    name: "`#[cache_invalidate]`",
    does: "only applies to `async fn`s",
    const_reason: "it only applies to `async fn`s",
    no_body: "put the attribute on the method's implementation instead of its declaration",
    once: "list every tag in one attribute: `#[cache_invalidate(tags = [\"users\", \"orders\"])]`",
};

pub(crate) const CACHE_PUT: Attr = Attr {
    ident: "cache_put",
    name: "`#[cache_put]`",
    does: "only applies to `async fn`s",
    const_reason: "it only applies to `async fn`s",
    no_body: "put the attribute on the method's implementation instead of its declaration",
    once: "list every read call in one attribute: \
           `#[cache_put(get_user(db, id), get_user_by_email(db, &email))]`",
};

/// The function with a body the attribute was put on; a declaration is an error.
pub(crate) fn with_body<'a>(
    input: &'a Input,
    attr: Attr,
    errors: &mut Errors,
) -> Option<&'a FnInput> {
    match input {
        Input::Fn(input) => Some(input),
        Input::Declaration(sig) => {
            errors.push(syn::Error::new_spanned(
                sig,
                format!("{} needs a function body: {}", attr.name, attr.no_body),
            ));
            None
        }
    }
}

/// The function carries another of our attributes (the one being expanded is no longer in its
/// list; the others, written after it, still are): each is an error on that attribute. Twice
/// `#[cached_query]` would cache a cache; `#[cache_invalidate]` on a cached function would only
/// invalidate on a miss.
pub(crate) fn check_other_attributes(input: &FnInput, attr: Attr, errors: &mut Errors) {
    for other in &input.item.attrs {
        let Some(last) = other.path().segments.last() else {
            continue;
        };
        let msg = if last.ident == attr.ident {
            format!(
                "{} is applied twice to this function: {}",
                attr.name, attr.once
            )
        } else if (attr.ident == CACHE_INVALIDATE.ident && last.ident == CACHE_PUT.ident)
            || (attr.ident == CACHE_PUT.ident && last.ident == CACHE_INVALIDATE.ident)
        {
            // A write may both store one entry and invalidate others.
            continue;
        } else if [CACHED_QUERY, CACHE_PUT]
            .iter()
            .all(|a| last.ident == a.ident || attr.ident == a.ident)
        {
            "`#[cached_query]` and `#[cache_put]` can't be combined on one function: a cached \
             call does not run its body on a hit; cache the read in one function and put its \
             new value from the function that writes"
                .to_owned()
        } else if last.ident == CACHED_QUERY.ident || last.ident == CACHE_INVALIDATE.ident {
            "`#[cached_query]` and `#[cache_invalidate]` can't be combined on one function: a \
             cached call does not run its body on a hit, so it would invalidate only on a miss; \
             cache the read in one function and invalidate in the function that writes"
                .to_owned()
        } else {
            continue;
        };
        errors.push(syn::Error::new_spanned(other, msg));
    }
}

/// `const fn`, a missing `async`, variadics: errors shared by both attributes.
pub(crate) fn check_async(sig: &Signature, attr: Attr, errors: &mut Errors) {
    let Attr {
        name,
        does,
        const_reason,
        ..
    } = attr;
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new_spanned(
            constness,
            format!("{name} can't be used on a `const fn`: {const_reason}"),
        ));
    } else if sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            sig.fn_token,
            format!(
                "the `async` keyword is missing from the function declaration: {name} {does} \
                 (if `#[async_trait]` rewrote this method first, use a native `async fn` in the \
                 trait instead)"
            ),
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            format!("{name} can't be used on a variadic function"),
        ));
    }
}

/// Checks the function's shape; returns the return type when it can be cached.
pub(crate) fn check_signature(sig: &Signature, errors: &mut Errors) -> Option<Type> {
    check_async(sig, CACHED_QUERY, errors);
    let ty = match &sig.output {
        ReturnType::Type(_, ty) if !is_unit(ty) => ty,
        _ => {
            errors.push(syn::Error::new_spanned(
                &sig.ident,
                "`#[cached_query]` has nothing to cache: the function returns `()`; declare the \
                 value it computes as its return type",
            ));
            return None;
        }
    };
    let mut check = ReturnCheck(Vec::new());
    check.visit_type(ty);
    if check.0.is_empty() {
        Some((**ty).clone())
    } else {
        check.0.into_iter().for_each(|e| errors.push(e));
        None
    }
}

fn is_unit(ty: &Type) -> bool {
    match ty {
        Type::Tuple(t) => t.elems.is_empty(),
        Type::Paren(t) => is_unit(&t.elem),
        Type::Group(t) => is_unit(&t.elem),
        _ => false,
    }
}

/// Finds `impl Trait`, references and non-`'static` lifetimes in the return type.
struct ReturnCheck(Vec<syn::Error>);

impl<'ast> Visit<'ast> for ReturnCheck {
    fn visit_type_impl_trait(&mut self, node: &'ast syn::TypeImplTrait) {
        self.0.push(syn::Error::new_spanned(
            node,
            "`#[cached_query]` can't cache an `impl Trait` return type: cached values are stored \
             and handed out again, so return a concrete type",
        ));
    }

    fn visit_type_reference(&mut self, node: &'ast syn::TypeReference) {
        self.0.push(syn::Error::new_spanned(node, OWNED_MSG));
    }

    fn visit_lifetime(&mut self, node: &'ast syn::Lifetime) {
        if node.ident != "static" {
            self.0.push(syn::Error::new_spanned(node, OWNED_MSG));
        }
    }
}

/// `stale_while_revalidate` recomputes in a background task that outlives the call: every
/// parameter (skipped ones too) is moved into it, so none may borrow.
pub(crate) fn check_owned_params(input: &FnInput, errors: &mut Errors) {
    for param in &input.params {
        let Some(borrowed) = param.borrows() else {
            continue;
        };
        let fix = match param {
            Param::Receiver { .. } => {
                "take `self: Arc<Self>` (or `self` by value, for a cheap `Clone` type) instead"
            }
            Param::Typed { .. } => {
                "take an owned value instead: an `Arc<Pool>` or a cloneable client rather than \
                 `&Pool`, a `String` rather than `&str`, or a `&'static` reference"
            }
        };
        errors.push(syn::Error::new_spanned(
            borrowed,
            format!(
                "`stale_while_revalidate` recomputes the value in a background task that outlives \
                 this call, so every argument must be owned, and this one borrows: {fix}"
            ),
        ));
    }
}
