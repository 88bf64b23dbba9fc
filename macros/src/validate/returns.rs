//! How the return value is read: the policy from the type's last path segment, and the parts of
//! the type that bound errors are spanned on.

use syn::Type;

use crate::args::Returns;

/// `Result` → Result policy, `Option` → Option policy, by the type's last path segment.
pub(crate) fn policy_of(ty: &Type) -> Returns {
    match ty {
        Type::Paren(t) => policy_of(&t.elem),
        Type::Group(t) => policy_of(&t.elem),
        Type::Path(p) => match p.path.segments.last() {
            Some(seg) if seg.ident == "Result" => Returns::Result,
            Some(seg) if seg.ident == "Option" => Returns::Option,
            _ => Returns::Value,
        },
        _ => Returns::Value,
    }
}

/// `T` in `Result<T, E>` (Result policy) or `Option<T>` (Option policy) when the return type is
/// spelled that way; otherwise the whole return type (aliases, `returns = "value"`).
pub(crate) fn stored_type(ty: &Type, policy: Returns) -> &Type {
    let name = match policy {
        Returns::Result => "Result",
        Returns::Option => "Option",
        Returns::Value => return ty,
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
pub(crate) fn error_type(ty: &Type) -> &Type {
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
