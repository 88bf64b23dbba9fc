//! `#[cache_invalidate]`: the function's shape and the tags' placeholders, then when to
//! invalidate.

use syn::ReturnType;
use syn::spanned::Spanned;

use super::{params, returns, signature};
use crate::args::{CacheInvalidateArgs, Returns};
use crate::error::Errors;
use crate::input::{self, Input};
use crate::plan::{InvalidatePlan, Krate, When};

/// Validates a `#[cache_invalidate]` function (always) and its arguments against it (when they
/// parsed). Returns a plan only when no error was found anywhere.
pub(crate) fn validate_invalidate(
    args: Option<&CacheInvalidateArgs>,
    input: &Input,
    errors: &mut Errors,
) -> Option<InvalidatePlan> {
    let input = signature::with_body(input, signature::CACHE_INVALIDATE, errors)?;
    signature::check_other_attributes(input, signature::CACHE_INVALIDATE, errors);
    signature::check_async(&input.item.sig, signature::CACHE_INVALIDATE, errors);
    let args = args?;

    // Every parameter binding may be a placeholder root: nothing is skipped here.
    let tags = params::tags(args.tags(), input, &[], None, errors);
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
    // By the declared type's last path segment: `Result<impl Trait, E>` is still a `Result`.
    let returns_result = match args.returns {
        Some(returns) => returns == Returns::Result,
        None => matches!(&input.item.sig.output,
            ReturnType::Type(_, ty) if returns::policy_of(ty) == Returns::Result),
    };
    let when = if args.before.is_present() {
        When::Before
    } else if returns_result {
        When::AfterOk
    } else {
        When::AfterReturn
    };
    Some(InvalidatePlan {
        krate: Krate::new(args.krate.as_ref().map(|k| &k.0)),
        when,
        ret_ty,
        ret_span,
        tags,
    })
}
