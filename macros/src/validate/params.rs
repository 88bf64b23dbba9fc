//! Checks of the options that name parameters (`skip(...)`, tag placeholders), and the key
//! statements they leave.

use syn::LitStr;
use syn::spanned::Spanned;

use super::batch::BatchNames;
use crate::args::CachedQueryArgs;
use crate::error::Errors;
use crate::input::{FnInput, Param};
use crate::plan::KeyPart;
use crate::tags::TagTemplate;

/// Checks `skip(...)`; returns the skipped names.
pub(crate) fn check_skips(
    args: &CachedQueryArgs,
    input: &FnInput,
    errors: &mut Errors,
) -> Vec<String> {
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

/// Parses the tag literals and checks their placeholders; a placeholder may name any binding
/// but a skipped one (for a batch, not the batch itself, but its items).
pub(crate) fn tags(
    lits: &[LitStr],
    input: &FnInput,
    skipped: &[String],
    batch: Option<&BatchNames>,
    errors: &mut Errors,
) -> Vec<TagTemplate> {
    let mut tags = Vec::new();
    for lit in lits {
        match TagTemplate::parse(lit) {
            Ok(tag) => {
                check_tag(&tag, input, skipped, batch, errors);
                tags.push(tag);
            }
            Err(err) => errors.push(err),
        }
    }
    tags
}

/// Checks that every placeholder's root names a parameter binding, not a skipped one.
fn check_tag(
    tag: &TagTemplate,
    input: &FnInput,
    skipped: &[String],
    batch: Option<&BatchNames>,
    errors: &mut Errors,
) {
    let names = input.binding_names();
    for placeholder in tag.placeholders() {
        let root = &placeholder.root;
        let msg = if let Some(msg) = batch.and_then(|batch| batch_placeholder(batch, root)) {
            match msg {
                Some(msg) => msg,
                None => continue,
            }
        } else if !names.contains(root) {
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
                let hint = match batch {
                    Some(batch) if batch.item.is_none() => format!(
                        "; the items of `{0}` have no name: `batch({0} as {root})` names them",
                        batch.param
                    ),
                    _ => String::new(),
                };
                format!(
                    "tag placeholder `{{{root}}}` doesn't name a parameter of this function \
                     (parameters: {list}){hint}"
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

/// A placeholder of a batch function's tag that names the batch (an error) or its items (fine);
/// `None` for any other, checked as usual.
fn batch_placeholder(batch: &BatchNames, root: &str) -> Option<Option<String>> {
    if batch.item.as_ref().is_some_and(|item| item == root) {
        return Some(None);
    }
    if root != batch.param {
        return None;
    }
    let param = &batch.param;
    let fix = match &batch.item {
        Some(item) => format!("write `{{{item}}}`"),
        None => format!("name them, `batch({param} as id)`, and write `{{id}}`"),
    };
    Some(Some(format!(
        "tag placeholder `{{{param}}}` names the whole batch, and each of its items is an entry \
         of its own, tagged alone: to tag each with its item, {fix}"
    )))
}

pub(crate) fn key_parts(input: &FnInput, skipped: &[String]) -> Vec<KeyPart> {
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
    parts
}
