//! Checks of the function and of the arguments against it. Produces the plan that `expand`
//! turns into code without making further decisions.

mod batch;
mod invalidate;
mod params;
mod put;
mod returns;
mod signature;

pub(crate) use invalidate::validate_invalidate;
pub(crate) use put::validate_put;

use crate::args::{CachedQueryArgs, Returns};
use crate::error::Errors;
use crate::input::Input;
use crate::plan::Krate;
use crate::plan::{KeyPart, Plan};
use crate::site_config::SiteOptions;

/// Validates a `#[cached_query]` function (always) and its arguments against it (when they
/// parsed). Returns a plan only when no error was found anywhere.
pub(crate) fn validate(
    args: Option<&CachedQueryArgs>,
    input: &Input,
    errors: &mut Errors,
) -> Option<Plan> {
    let input = signature::with_body(input, signature::CACHED_QUERY, errors)?;
    signature::check_other_attributes(input, signature::CACHED_QUERY, errors);
    let ret_ty = signature::check_signature(&input.item.sig, errors);
    let args = args?;

    let skipped = params::check_skips(args, input, errors);
    let batch_names = match &args.batch {
        // Without its batch parameter, a batch's tags can't be checked (`{id}` names its items).
        Some(batch) => Some(batch::names(batch, input, &skipped, errors)?),
        None => None,
    };
    let tags = params::tags(&args.tags, input, &skipped, batch_names.as_ref(), errors);
    let mut key_parts = params::key_parts(input, &skipped);

    let ret_ty = ret_ty?;
    let batch = match batch_names {
        Some(names) => {
            let item_used = tags.iter().any(|tag| {
                tag.placeholders()
                    .any(|p| names.item.as_ref().is_some_and(|item| *item == p.root))
            });
            for part in &mut key_parts {
                if matches!(part, KeyPart::Arg { ident, .. } if *ident == names.param) {
                    *part = KeyPart::Item;
                }
            }
            Some(batch::plan(args, names, input, &ret_ty, item_used, errors)?)
        }
        None => None,
    };
    let policy = match &batch {
        Some(batch) => batch.policy,
        None => args
            .returns
            .map_or_else(|| returns::policy_of(&ret_ty), |r| r.policy),
    };
    if batch.is_none() {
        check_policy_options(args, policy, errors);
    }
    // A batch refuses the option itself (`args`), whatever its parameters.
    if args.stale_while_revalidate.is_some() && batch.is_none() {
        signature::check_owned_params(input, errors);
    }
    if !errors.is_empty() {
        return None;
    }

    Some(Plan {
        krate: Krate::new(args.krate.as_ref().map(|k| &k.0)),
        site: SiteOptions::of(args),
        revalidate: args.stale_while_revalidate.map(|d| d.span),
        result_tags: args.result_tags.clone(),
        cache_err: args.cache_err.clone(),
        condition: args.condition.clone(),
        unless: args.unless.clone(),
        local: args.local.is_present(),
        policy,
        value_ty: match &batch {
            Some(batch) => batch.value_ty.clone(),
            None => returns::stored_type(&ret_ty, policy).clone(),
        },
        error_ty: returns::error_type(&ret_ty).clone(),
        ret_ty,
        key_parts,
        tags,
        batch,
    })
}

/// Options that only make sense for one return policy.
fn check_policy_options(args: &CachedQueryArgs, policy: Returns, errors: &mut Errors) {
    if args.cache_none.is_present() && policy != Returns::Option {
        errors.push(syn::Error::new(
            args.cache_none.span(),
            "`cache_none` only applies to functions returning `Option`: it also caches `None` \
             results; if the return type is an alias of `Option`, add `returns = \"option\"`",
        ));
    }
    if let Some(window) = &args.stale_if_error
        && policy != Returns::Result
    {
        errors.push(syn::Error::new(
            window.span,
            "`stale_if_error` only applies to functions returning `Result`: it returns the last \
             `Ok` value when the function fails; if the return type is an alias of `Result`, add \
             `returns = \"result\"`",
        ));
    }
    if let Some(predicate) = &args.cache_err
        && policy != Returns::Result
    {
        errors.push(syn::Error::new_spanned(
            predicate,
            "`cache_err` only applies to functions returning `Result`: it caches the errors it \
             accepts; if the return type is an alias of `Result`, add `returns = \"result\"`",
        ));
    }
}
