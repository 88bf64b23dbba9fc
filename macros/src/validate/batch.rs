//! Checks of a batch function (`#[cached_query(batch)]`): which parameter is the batch, the name
//! of its items, the map it returns, and merging.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{FnArg, Pat, Type};

use crate::args::{BatchOption, CachedQueryArgs, Returns};
use crate::error::Errors;
use crate::input::{FnInput, Param, contains_impl_trait};
use crate::plan::{BatchPlan, Merge};

/// The batch parameter and the name of its items, as tag placeholders see them.
pub(crate) struct BatchNames {
    /// The batch parameter's name.
    pub(crate) param: String,
    /// The items' name: written (`batch(ids as id)`) or inferred (`ids` → `id`); `None` when
    /// neither (a placeholder can then not name an item).
    pub(crate) item: Option<Ident>,
}

const EXAMPLE: &str = "`HashMap<u64, User>`, or `Result<BTreeMap<u64, User>, DbError>`";

/// The batch parameter and its items' name; errors (spanned on the user's tokens) when the
/// parameter can't be found, or the name is taken.
pub(crate) fn names(
    batch: &BatchOption,
    input: &FnInput,
    skipped: &[String],
    errors: &mut Errors,
) -> Option<BatchNames> {
    let param = match &batch.param {
        Some(named) => named_param(named, input, skipped, errors)?,
        None => inferred_param(batch.span, input, skipped, errors)?,
    };
    let item = match &batch.item {
        Some(item) => Some(item.clone()),
        None => singular(&param).map(|name| Ident::new(&name, batch.span)),
    };
    if let Some(item) = &item
        && input.binding_names().contains(&item.to_string())
    {
        let how = if batch.item.is_some() {
            "name the items differently"
        } else {
            "name them"
        };
        errors.push(syn::Error::new(
            item.span(),
            format!(
                "the items of `{param}` can't be called `{item}`: a parameter already is; {how}, \
                 e.g. `batch({param} as one_{item})`"
            ),
        ));
        return None;
    }
    Some(BatchNames { param, item })
}

/// `batch(ids)`: `ids` must be a parameter bound by name, in the key.
fn named_param(
    named: &Ident,
    input: &FnInput,
    skipped: &[String],
    errors: &mut Errors,
) -> Option<String> {
    let name = named.to_string();
    let params: Vec<String> = candidates(input, &[]).map(|(name, _)| name).collect();
    let msg = if name == "self" {
        "the receiver can't be the batch: name the parameter holding the items".to_owned()
    } else if skipped.contains(&name) {
        format!(
            "`{name}` is the batch, so it is what the keys are made of: remove it from `skip(...)`"
        )
    } else if params.contains(&name) {
        return Some(name);
    } else {
        format!(
            "`batch({name})` names no parameter of this function (parameters: {})",
            listed(&params)
        )
    };
    errors.push(syn::Error::new(named.span(), msg));
    None
}

/// `batch`: the one parameter in the key besides the receiver.
fn inferred_param(
    span: Span,
    input: &FnInput,
    skipped: &[String],
    errors: &mut Errors,
) -> Option<String> {
    let keyed: Vec<String> = candidates(input, skipped).map(|(name, _)| name).collect();
    let msg = match keyed.as_slice() {
        [one] => return Some(one.clone()),
        [] => "`batch` needs a parameter holding the items, and every parameter is skipped or \
               the receiver: add one (e.g. `ids: Vec<u64>`) and name it, `batch(ids)`"
            .to_owned(),
        several => format!(
            "`batch` can't tell which parameter holds the items: {} are in the key; name it, \
             e.g. `batch({})`",
            listed(several),
            several.last().map_or("ids", String::as_str)
        ),
    };
    errors.push(syn::Error::new(span, msg));
    None
}

/// Parameters bound by one name, not skipped, with their type.
fn candidates<'a>(
    input: &'a FnInput,
    skipped: &'a [String],
) -> impl Iterator<Item = (String, &'a Type)> + 'a {
    input.params.iter().filter_map(move |param| match param {
        Param::Typed { bindings, ty } => match bindings.as_slice() {
            [one] if !skipped.contains(&one.to_string()) => Some((one.to_string(), &**ty)),
            _ => None,
        },
        Param::Receiver { .. } => None,
    })
}

fn listed(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

/// `ids` → `id`, `entries` → `entry`; `None` when the name is not a plural.
fn singular(plural: &str) -> Option<String> {
    if let Some(stem) = plural.strip_suffix("ies")
        && !stem.is_empty()
    {
        return Some(format!("{stem}y"));
    }
    match plural.strip_suffix('s') {
        Some(stem) if !stem.is_empty() && !stem.ends_with('s') && !stem.ends_with('_') => {
            Some(stem.to_owned())
        }
        _ => None,
    }
}

/// The rest of the batch plan: the parameter's type and binding, the map's key and value
/// types, merging.
pub(crate) fn plan(
    args: &CachedQueryArgs,
    names: BatchNames,
    input: &FnInput,
    ret_ty: &Type,
    item_used: bool,
    errors: &mut Errors,
) -> Option<BatchPlan> {
    let (policy, key_ty, value_ty) = match map_types(ret_ty, args.returns.map(|r| r.policy)) {
        Ok(types) => types,
        Err(err) => {
            errors.push(err);
            return None;
        }
    };
    let (binding, param_ty) = binding(input, &names.param)?;
    if contains_impl_trait(param_ty) {
        errors.push(syn::Error::new_spanned(
            param_ty,
            "the batch's type must be named, so that the items the body computes can be \
             collected into it: take a `Vec<K>`, `&[K]`, `HashSet<K>` or `BTreeSet<K>`",
        ));
        return None;
    }
    let item = names
        .item
        .unwrap_or_else(|| Ident::new("_", Span::call_site()));
    Some(BatchPlan {
        param: binding.0,
        mutable: binding.1,
        borrowed: matches!(param_ty, Type::Reference(_)),
        param_ty_span: param_ty.span(),
        param_ty: syn::parse2(erase_lifetimes(param_ty.to_token_stream()))
            .unwrap_or_else(|_| param_ty.clone()),
        item: if item_used {
            item
        } else {
            Ident::new("_", item.span())
        },
        key_ty,
        value_ty,
        policy,
        merge: args.merge.map(|window| Merge {
            window_ms: window.millis,
            max_batch: args.max_batch.map_or(DEFAULT_MAX_BATCH, |max| max.value),
            span: window.span,
        }),
    })
}

/// Items one merged body call takes at most, unless `max_batch` says.
const DEFAULT_MAX_BATCH: u32 = 1_000;

/// The batch parameter's binding (its identifier, whether `mut`) and type.
fn binding<'a>(input: &'a FnInput, name: &str) -> Option<((Ident, bool), &'a Type)> {
    input.item.sig.inputs.iter().find_map(|arg| match arg {
        FnArg::Typed(typed) => match &*typed.pat {
            Pat::Ident(pat) if pat.ident == name && pat.subpat.is_none() => {
                Some(((pat.ident.clone(), pat.mutability.is_some()), &*typed.ty))
            }
            _ => None,
        },
        FnArg::Receiver(_) => None,
    })
}

/// The return policy and the map's key and value types: `Map<K, V>` or `Result<Map<K, V>, E>`
/// (`returns = "result"` for an alias of `Result`), any map whose name ends in `Map`.
fn map_types(ret_ty: &Type, returns: Option<Returns>) -> syn::Result<(Returns, Type, Type)> {
    let not_a_map = || {
        syn::Error::new_spanned(
            ret_ty,
            format!(
                "`#[cached_query(batch)]` returns a map from each item of the batch to its value, \
                 e.g. {EXAMPLE}, spelled out (not through an alias: the item and value types \
                 are read from it): each item is cached as the entry of its own key"
            ),
        )
    };
    // `returns = "option"` is refused with the other options a batch can't take.
    let policy = match returns {
        Some(Returns::Result) => Returns::Result,
        Some(_) => Returns::Value,
        None => super::returns::policy_of(ret_ty),
    };
    let map = match policy {
        Returns::Result => first_type_argument(ret_ty).ok_or_else(not_a_map)?,
        _ => ret_ty,
    };
    let [key, value] = map_arguments(map).ok_or_else(not_a_map)?;
    Ok((policy, key.clone(), value.clone()))
}

fn first_type_argument(ty: &Type) -> Option<&Type> {
    type_arguments(ty)?.into_iter().next()
}

/// `K` and `V` of `…Map<K, V>` (a hasher may follow).
fn map_arguments(ty: &Type) -> Option<[&Type; 2]> {
    let Type::Path(path) = ungroup(ty) else {
        return None;
    };
    let last = path.path.segments.last()?;
    if !last.ident.to_string().ends_with("Map") {
        return None;
    }
    match type_arguments(ty)?.as_slice() {
        [key, value, ..] => Some([key, value]),
        _ => None,
    }
}

fn type_arguments(ty: &Type) -> Option<Vec<&Type>> {
    let Type::Path(path) = ungroup(ty) else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    match &path.path.segments.last()?.arguments {
        syn::PathArguments::AngleBracketed(args) => Some(
            args.args
                .iter()
                .filter_map(|arg| match arg {
                    syn::GenericArgument::Type(ty) => Some(ty),
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    }
}

fn ungroup(ty: &Type) -> &Type {
    match ty {
        Type::Paren(t) => ungroup(&t.elem),
        Type::Group(t) => ungroup(&t.elem),
        other => other,
    }
}

/// The type with every lifetime elided (`'_`), to annotate a local binding with it.
fn erase_lifetimes(tokens: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut after_quote = false;
    for token in tokens {
        let token = match token {
            TokenTree::Group(group) => {
                let mut erased =
                    proc_macro2::Group::new(group.delimiter(), erase_lifetimes(group.stream()));
                erased.set_span(group.span());
                TokenTree::Group(erased)
            }
            TokenTree::Ident(ident) if after_quote => {
                TokenTree::Ident(Ident::new("_", ident.span()))
            }
            other => other,
        };
        after_quote = matches!(&token, TokenTree::Punct(p) if p.as_char() == '\'');
        out.push(token);
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_names_give_their_items_names() {
        assert_eq!(singular("ids").as_deref(), Some("id"));
        assert_eq!(singular("user_ids").as_deref(), Some("user_id"));
        assert_eq!(singular("entries").as_deref(), Some("entry"));
        assert_eq!(singular("skus").as_deref(), Some("sku"));
        assert_eq!(singular("address"), None);
        assert_eq!(singular("batch"), None);
        assert_eq!(singular("s"), None);
    }

    #[test]
    fn lifetimes_are_elided() {
        let ty: Type = syn::parse_quote!(&'a [Cow<'static, str>]);
        let erased = erase_lifetimes(ty.to_token_stream()).to_string();
        assert_eq!(erased.replace(' ', ""), "&'_[Cow<'_,str>]");
    }
}
