//! Checks of the function and of the arguments against it. Produces the `Plan` that `expand`
//! turns into code without making further decisions.

use proc_macro2::{Ident, Span};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{GenericParam, LitStr, ReturnType, Signature, Token, Type};

use crate::args::{CacheInvalidateArgs, CachedQueryArgs, InvalidateReturns, Returns};
use crate::error::Errors;
use crate::input::{self, FnInput, Input, Param};
use crate::tags::TagTemplate;

/// How the runtime treats the return value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Policy {
    /// Cache only `Ok`.
    Result,
    /// Cache only `Some` (and `None` with `cache_none`).
    Option,
    /// Cache every value.
    Value,
}

impl Policy {
    /// The runtime type implementing this policy.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Self::Result => "ResultPolicy",
            Self::Option => "OptionPolicy",
            Self::Value => "ValuePolicy",
        }
    }
}

/// One statement of the key builder, in emission order.
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
    /// `__cq_key.type_name(type_name::<T>())`.
    TypeParam(Ident),
    /// `__cq_key.arg(&N)`.
    ConstParam(Ident),
    /// `__cq_key.type_name(type_name::<Self>())`.
    SelfType,
    /// `__cq_key.type_name(type_name_of_val(&x))`.
    ImplTraitArg(Ident),
}

/// Everything `expand` needs, fully decided.
pub(crate) struct Plan {
    /// The user's `crate = ...` path to the facade (default `::cached_query`).
    pub(crate) krate: Option<syn::Path>,
    /// `name = "..."`.
    pub(crate) name: Option<LitStr>,
    /// `store = "..."`.
    pub(crate) store: Option<LitStr>,
    /// `version = N`.
    pub(crate) version: u32,
    /// `ttl`, in milliseconds.
    pub(crate) ttl_ms: Option<u64>,
    /// `cache_none`.
    pub(crate) cache_none: bool,
    /// `none_ttl`, in milliseconds.
    pub(crate) none_ttl_ms: Option<u64>,
    /// `stale_if_error`, in milliseconds.
    pub(crate) stale_if_error_ms: Option<u64>,
    /// `min_compute`, in milliseconds.
    pub(crate) min_compute_ms: Option<u64>,
    /// `stale_while_revalidate`, in milliseconds, and where the option is written (the
    /// background call's `Send`/`'static` errors are reported there).
    pub(crate) revalidate: Option<(u64, Span)>,
    /// `early_refresh`: the XFetch `beta`.
    pub(crate) early_refresh: Option<f64>,
    /// `result_tags = <closure or path>`.
    pub(crate) result_tags: Option<syn::Expr>,
    /// `cache_err = <closure or path>`.
    pub(crate) cache_err: Option<syn::Expr>,
    /// `err_ttl`, in milliseconds.
    pub(crate) err_ttl_ms: Option<u64>,
    /// `condition = <expr>`.
    pub(crate) condition: Option<syn::Expr>,
    /// `unless = <closure or path>`.
    pub(crate) unless: Option<syn::Expr>,
    /// `local`: `enter_local` instead of `enter`.
    pub(crate) local: bool,
    /// The return policy.
    pub(crate) policy: Policy,
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
}

const OWNED_MSG: &str =
    "cached values must own their data: return an owned type, e.g. `String` instead of `&str`";

/// Validates the function (always) and the arguments against it (when they parsed).
/// Returns a plan only when no error was found anywhere.
pub(crate) fn validate(
    args: Option<&CachedQueryArgs>,
    input: &Input,
    errors: &mut Errors,
) -> Option<Plan> {
    let input = match input {
        Input::Declaration(sig) => {
            errors.push(syn::Error::new_spanned(
                sig,
                "`#[cached_query]` needs a function body: a trait method declaration can't be \
                 cached; put the attribute on the method's implementation instead",
            ));
            return None;
        }
        Input::Fn(input) => input,
    };
    let ret_ty = check_signature(&input.item.sig, errors);
    let args = args?;

    let skipped = check_skips(args, input, errors);
    let mut tags = Vec::new();
    for lit in &args.tags {
        match TagTemplate::parse(lit) {
            Ok(tag) => {
                check_tag(&tag, input, &skipped, errors);
                tags.push(tag);
            }
            Err(err) => errors.push(err),
        }
    }

    let ret_ty = ret_ty?;
    let policy = match args.returns {
        Some(Returns::Result) => Policy::Result,
        Some(Returns::Option) => Policy::Option,
        Some(Returns::Value) => Policy::Value,
        None => policy_of(&ret_ty),
    };
    if args.cache_none.is_present() && policy != Policy::Option {
        errors.push(syn::Error::new(
            args.cache_none.span(),
            "`cache_none` only applies to functions returning `Option`: it also caches `None` \
             results; if the return type is an alias of `Option`, add `returns = \"option\"`",
        ));
    }
    if let Some(window) = &args.stale_if_error
        && policy != Policy::Result
    {
        errors.push(syn::Error::new(
            window.span,
            "`stale_if_error` only applies to functions returning `Result`: it returns the last \
             `Ok` value when the function fails; if the return type is an alias of `Result`, add \
             `returns = \"result\"`",
        ));
    }
    if let Some(predicate) = &args.cache_err
        && policy != Policy::Result
    {
        errors.push(syn::Error::new_spanned(
            predicate,
            "`cache_err` only applies to functions returning `Result`: it caches the errors it \
             accepts; if the return type is an alias of `Result`, add `returns = \"result\"`",
        ));
    }
    if args.stale_while_revalidate.is_some() {
        check_owned_params(input, errors);
    }
    if !errors.is_empty() {
        return None;
    }

    Some(Plan {
        krate: args.krate.as_ref().map(|k| k.0.clone()),
        name: args.name.clone(),
        store: args.store.clone(),
        version: args.version.unwrap_or(0),
        ttl_ms: args.ttl.map(|d| d.millis),
        cache_none: args.cache_none.is_present(),
        none_ttl_ms: args.none_ttl.map(|d| d.millis),
        stale_if_error_ms: args.stale_if_error.map(|d| d.millis),
        min_compute_ms: args.min_compute.map(|d| d.millis),
        revalidate: args.stale_while_revalidate.map(|d| (d.millis, d.span)),
        early_refresh: args.early_refresh.map(|e| e.beta),
        result_tags: args.result_tags.clone(),
        cache_err: args.cache_err.clone(),
        err_ttl_ms: args.err_ttl.map(|d| d.millis),
        condition: args.condition.clone(),
        unless: args.unless.clone(),
        local: args.local.is_present(),
        policy,
        value_ty: stored_type(&ret_ty, policy).clone(),
        error_ty: error_type(&ret_ty).clone(),
        ret_ty,
        key_parts: key_parts(input, &skipped),
        tags,
    })
}

/// `stale_while_revalidate` recomputes in a background task that outlives the call: every
/// parameter (skipped ones too) is moved into it, so none may borrow.
fn check_owned_params(input: &FnInput, errors: &mut Errors) {
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

/// Which attribute a shared check reports for, and what it does with `async fn`s.
#[derive(Clone, Copy)]
struct Attr {
    /// `` `#[cached_query]` ``.
    name: &'static str,
    /// What the attribute does, ending the sentences of the errors: "only memoizes `async fn`s".
    does: &'static str,
    /// Why a `const fn` is rejected.
    const_reason: &'static str,
}

const CACHED_QUERY: Attr = Attr {
    name: "`#[cached_query]`",
    does: "only memoizes `async fn`s",
    const_reason: "only `async fn`s are memoized",
};

const CACHE_INVALIDATE: Attr = Attr {
    name: "`#[cache_invalidate]`",
    does: "only applies to `async fn`s",
    const_reason: "it only applies to `async fn`s",
};

/// `const fn`, a missing `async`, variadics: errors shared by both attributes.
fn check_async(sig: &Signature, attr: Attr, errors: &mut Errors) {
    let Attr {
        name,
        does,
        const_reason,
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
fn check_signature(sig: &Signature, errors: &mut Errors) -> Option<Type> {
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

/// `Result` → Result policy, `Option` → Option policy, by the type's last path segment.
fn policy_of(ty: &Type) -> Policy {
    match ty {
        Type::Paren(t) => policy_of(&t.elem),
        Type::Group(t) => policy_of(&t.elem),
        Type::Path(p) => match p.path.segments.last() {
            Some(seg) if seg.ident == "Result" => Policy::Result,
            Some(seg) if seg.ident == "Option" => Policy::Option,
            _ => Policy::Value,
        },
        _ => Policy::Value,
    }
}

/// `T` in `Result<T, E>` (Result policy) or `Option<T>` (Option policy) when the return type is
/// spelled that way; otherwise the whole return type (aliases, `returns = "value"`).
fn stored_type(ty: &Type, policy: Policy) -> &Type {
    let name = match policy {
        Policy::Result => "Result",
        Policy::Option => "Option",
        Policy::Value => return ty,
    };
    match ty {
        Type::Paren(t) => stored_type(&t.elem, policy),
        Type::Group(t) => stored_type(&t.elem, policy),
        Type::Path(p) if p.qself.is_none() => match p.path.segments.last() {
            Some(seg) if seg.ident == name => match &seg.arguments {
                syn::PathArguments::AngleBracketed(args) => match args.args.first() {
                    Some(syn::GenericArgument::Type(inner)) => inner,
                    _ => ty,
                },
                _ => ty,
            },
            _ => ty,
        },
        _ => ty,
    }
}

/// `E` in `Result<T, E>` when the return type is spelled that way; otherwise the whole type.
fn error_type(ty: &Type) -> &Type {
    match ty {
        Type::Paren(t) => error_type(&t.elem),
        Type::Group(t) => error_type(&t.elem),
        Type::Path(p) if p.qself.is_none() => match p.path.segments.last() {
            Some(seg) if seg.ident == "Result" => match &seg.arguments {
                syn::PathArguments::AngleBracketed(args) => match args.args.iter().nth(1) {
                    Some(syn::GenericArgument::Type(inner)) => inner,
                    _ => ty,
                },
                _ => ty,
            },
            _ => ty,
        },
        _ => ty,
    }
}

/// Checks `skip(...)`; returns the skipped names.
fn check_skips(args: &CachedQueryArgs, input: &FnInput, errors: &mut Errors) -> Vec<String> {
    let names = input.binding_names();
    let mut skipped: Vec<String> = Vec::new();
    for path in args.skip.iter() {
        let Some(ident) = path.get_ident() else {
            errors.push(syn::Error::new_spanned(
                path,
                "expected a parameter name: `skip(...)` lists parameters, e.g. `skip(db, self)`",
            ));
            continue;
        };
        let name = ident.to_string();
        if !names.contains(&name) {
            errors.push(syn::Error::new_spanned(
                ident,
                format!("`#[cached_query]` has no parameter named `{name}` to skip"),
            ));
        } else if skipped.contains(&name) {
            errors.push(syn::Error::new_spanned(
                ident,
                format!("`{name}` is already skipped: remove the duplicate from `skip(...)`"),
            ));
        } else {
            skipped.push(name);
        }
    }
    skipped
}

/// Checks that every placeholder's root names a parameter binding, not a skipped one.
fn check_tag(tag: &TagTemplate, input: &FnInput, skipped: &[String], errors: &mut Errors) {
    let names = input.binding_names();
    for placeholder in tag.placeholders() {
        let root = &placeholder.root;
        let msg = if !names.contains(root) {
            if root == "self" {
                "tag placeholder `{self...}` needs a method: this function has no `self` \
                 receiver"
                    .to_owned()
            } else {
                let list = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>();
                let list = if list.is_empty() {
                    "none".to_owned()
                } else {
                    list.join(", ")
                };
                format!(
                    "tag placeholder `{{{root}}}` doesn't name a parameter of this function \
                     (parameters: {list})"
                )
            }
        } else if skipped.contains(root) {
            format!(
                "tag placeholder `{{{root}}}` uses `{root}`, which is excluded from the cache \
                 key by `skip(...)`: tags must be derived from the key, so remove `{root}` \
                 from `skip(...)` or from the tag"
            )
        } else {
            continue;
        };
        errors.push(syn::Error::new(tag.lit.span(), msg));
    }
}

fn key_parts(input: &FnInput, skipped: &[String]) -> Vec<KeyPart> {
    let is_skipped = |name: &str| skipped.iter().any(|s| s == name);
    let mut parts = Vec::new();
    for param in &input.params {
        match param {
            Param::Receiver {
                self_token,
                by_value,
                ..
            } => {
                if !is_skipped("self") {
                    parts.push(KeyPart::Receiver {
                        self_token: *self_token,
                        by_value: *by_value,
                    });
                }
            }
            Param::Typed { bindings, ty, .. } => {
                for ident in bindings {
                    if !is_skipped(&ident.to_string()) {
                        parts.push(KeyPart::Arg {
                            ident: ident.clone(),
                            ty_span: ty.span(),
                        });
                    }
                }
            }
        }
    }
    let generics = &input.item.sig.generics.params;
    for param in generics {
        if let GenericParam::Type(tp) = param {
            parts.push(KeyPart::TypeParam(tp.ident.clone()));
        }
    }
    for param in generics {
        if let GenericParam::Const(cp) = param {
            parts.push(KeyPart::ConstParam(cp.ident.clone()));
        }
    }
    if input.has_receiver() {
        parts.push(KeyPart::SelfType);
    }
    for param in &input.params {
        if let Param::Typed {
            simple: Some(ident),
            impl_trait: true,
            ..
        } = param
        {
            parts.push(KeyPart::ImplTraitArg(ident.clone()));
        }
    }
    parts
}

/// Everything `expand` needs for `#[cache_invalidate]`, fully decided.
pub(crate) struct InvalidatePlan {
    /// The user's `crate = ...` path to the facade (default `::cached_query`).
    pub(crate) krate: Option<syn::Path>,
    /// `before`: invalidate before running the body.
    pub(crate) before: bool,
    /// Invalidate only after `Ok` (`Result` policy) or after every return (`Value`).
    pub(crate) policy: Policy,
    /// The return type for the fake return edge: `()` when none is declared, `_` when it
    /// mentions `impl Trait` (which can't be spelled in a `let`).
    pub(crate) ret_ty: Type,
    /// Where the return type is (the function's name when none is declared).
    pub(crate) ret_span: Span,
    /// Tag templates.
    pub(crate) tags: Vec<TagTemplate>,
}

/// Validates a `#[cache_invalidate]` function (always) and its arguments against it (when they
/// parsed). Returns a plan only when no error was found anywhere.
pub(crate) fn validate_invalidate(
    args: Option<&CacheInvalidateArgs>,
    input: &Input,
    errors: &mut Errors,
) -> Option<InvalidatePlan> {
    let input = match input {
        Input::Declaration(sig) => {
            errors.push(syn::Error::new_spanned(
                sig,
                "`#[cache_invalidate]` needs a function body: put the attribute on the method's \
                 implementation instead of its declaration",
            ));
            return None;
        }
        Input::Fn(input) => input,
    };
    check_async(&input.item.sig, CACHE_INVALIDATE, errors);
    let args = args?;

    // Every parameter binding may be a placeholder root: nothing is skipped here.
    let mut tags = Vec::new();
    for lit in args.tags() {
        match TagTemplate::parse(lit) {
            Ok(tag) => {
                check_tag(&tag, input, &[], errors);
                tags.push(tag);
            }
            Err(err) => errors.push(err),
        }
    }
    if !errors.is_empty() {
        return None;
    }

    let (ret_ty, ret_span) = match &input.item.sig.output {
        ReturnType::Type(_, ty) if input::contains_impl_trait(ty) => {
            let span = ty.span();
            (syn::parse_quote_spanned!(span=> _), span)
        }
        ReturnType::Type(_, ty) => ((**ty).clone(), ty.span()),
        ReturnType::Default => {
            let span = input.item.sig.ident.span();
            (syn::parse_quote_spanned!(span=> ()), span)
        }
    };
    let policy = match args.returns {
        Some(InvalidateReturns::Result) => Policy::Result,
        Some(InvalidateReturns::Value) => Policy::Value,
        // By the declared type's last path segment: `Result<impl Trait, E>` is still a `Result`.
        None => match &input.item.sig.output {
            ReturnType::Type(_, ty) if policy_of(ty) == Policy::Result => Policy::Result,
            _ => Policy::Value,
        },
    };
    Some(InvalidatePlan {
        krate: args.krate.as_ref().map(|k| k.0.clone()),
        before: args.before.is_present(),
        policy,
        ret_ty,
        ret_span,
        tags,
    })
}
