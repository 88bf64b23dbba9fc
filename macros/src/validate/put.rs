//! `#[cache_put]`: the function's shape, the read calls, and which results carry a value.

use syn::spanned::Spanned;
use syn::{Expr, ReturnType};

use super::{returns, signature};
use crate::args::{CachePutArgs, PUT_EXAMPLE};
use crate::error::Errors;
use crate::input::{self, Input};
use crate::plan::{Krate, PutPlan};

/// Validates a `#[cache_put]` function (always) and its arguments against it (when they
/// parsed). Returns a plan only when no error was found anywhere.
pub(crate) fn validate_put(
    args: Option<&CachePutArgs>,
    input: &Input,
    errors: &mut Errors,
) -> Option<PutPlan> {
    let input = signature::with_body(input, signature::CACHE_PUT, errors)?;
    signature::check_other_attributes(input, signature::CACHE_PUT, errors);
    signature::check_async(&input.item.sig, signature::CACHE_PUT, errors);
    let ty = match &input.item.sig.output {
        ReturnType::Type(_, ty) => Some(ty),
        ReturnType::Default => {
            errors.push(syn::Error::new_spanned(
                &input.item.sig.ident,
                "`#[cache_put]` stores the value this function returns, and it returns `()`: \
                 return the new value (`Result<User, E>`, `Option<User>` or `User`)",
            ));
            None
        }
    };
    let args = args?;
    for call in &args.calls {
        check_call(call, errors);
    }
    let ty = ty?;
    if !errors.is_empty() {
        return None;
    }
    let (ret_ty, ret_span) = if input::contains_impl_trait(ty) {
        let span = ty.span();
        (syn::parse_quote_spanned!(span=> _), span)
    } else {
        ((**ty).clone(), ty.span())
    };
    Some(PutPlan {
        krate: Krate::new(args.options.krate.as_ref().map(|k| &k.0)),
        calls: args.calls.clone(),
        // By the declared type's last path segment, as `#[cached_query]` reads it.
        policy: args
            .options
            .returns
            .unwrap_or_else(|| returns::policy_of(ty)),
        ret_ty,
        ret_span,
    })
}

/// A read call is a function or method call, written without `.await`.
fn check_call(call: &Expr, errors: &mut Errors) {
    let message = match call {
        Expr::Call(_) | Expr::MethodCall(_) => return,
        Expr::Await(awaited) => {
            errors.push(syn::Error::new_spanned(
                awaited.await_token,
                "remove `.await`: `#[cache_put]` takes the read call itself, and makes it (without \
                 running its body) before this function runs",
            ));
            return;
        }
        Expr::Assign(_) => format!(
            "unknown option: `#[cache_put]` takes the read calls, then `crate = ..` or \
             `returns = \"..\"`: {PUT_EXAMPLE}"
        ),
        Expr::Path(_) => format!(
            "name the read call with its arguments, as this function's caller would make it: \
             {PUT_EXAMPLE}"
        ),
        _ => format!(
            "expected the call of a `#[cached_query]` function whose cached entry this \
             function's value replaces: {PUT_EXAMPLE}"
        ),
    };
    errors.push(syn::Error::new_spanned(call, message));
}
