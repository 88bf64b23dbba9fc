//! Values with their own meaning: `early_refresh`'s scale, the `crate` path, the `returns`
//! policy.

use darling::FromMeta;
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, Lit, Meta};

/// `early_refresh` (XFetch `beta` = 1) or `early_refresh = 2.5`: a positive, finite number.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EarlyRefresh {
    pub(crate) beta: f64,
    /// Where the option is written.
    pub(crate) span: Span,
}

const EARLY_REFRESH_FORMS: &str = "`early_refresh` takes no value (`early_refresh`) or a positive \
     number scaling how early entries are recomputed (`early_refresh = 2.0` refreshes earlier, \
     `early_refresh = 0.5` later; 1.0 by default)";

impl FromMeta for EarlyRefresh {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let span = item.path().span();
        match item {
            Meta::Path(_) => Ok(Self { beta: 1.0, span }),
            Meta::NameValue(nv) => Self::from_expr(&nv.value).map(|e| Self { span, ..e }),
            Meta::List(_) => Err(darling::Error::custom(EARLY_REFRESH_FORMS).with_span(item)),
        }
    }

    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        match expr {
            Expr::Lit(lit) => Self::from_value(&lit.lit),
            Expr::Group(group) => Self::from_expr(&group.expr),
            _ => Err(darling::Error::custom(EARLY_REFRESH_FORMS).with_span(expr)),
        }
    }

    fn from_value(value: &Lit) -> darling::Result<Self> {
        // A suffix other than a number type (`2m`) is not a scale: refused, never dropped.
        let beta = match value {
            Lit::Float(float) if matches!(float.suffix(), "" | "f32" | "f64") => {
                float.base10_parse::<f64>().ok()
            }
            Lit::Int(int) if matches!(int.suffix(), "" | "u8" | "u16" | "u32") => {
                int.base10_parse::<u32>().ok().map(f64::from)
            }
            _ => None,
        };
        match beta {
            Some(beta) if beta.is_finite() && beta > 0.0 => Ok(Self {
                beta,
                span: value.span(),
            }),
            _ => Err(darling::Error::custom(EARLY_REFRESH_FORMS).with_span(value)),
        }
    }
}

/// `crate = ::path::to::cached_query` or `crate = "::path::to::cached_query"`; must be absolute.
#[derive(Debug)]
pub(crate) struct CratePath(pub(crate) syn::Path);

impl FromMeta for CratePath {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        let path = match expr {
            Expr::Group(group) => return Self::from_expr(&group.expr),
            Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => p.path.clone(),
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => s
                .parse::<syn::Path>()
                .map_err(|_| darling::Error::custom(CRATE_FORMS).with_span(s))?,
            _ => return Err(darling::Error::custom(CRATE_FORMS).with_span(expr)),
        };
        let absolute = path.leading_colon.is_some()
            || path
                .segments
                .first()
                .is_some_and(|seg| seg.ident == "crate" || seg.ident == "$crate");
        if absolute {
            Ok(Self(path))
        } else {
            Err(darling::Error::custom(CRATE_FORMS).with_span(&path))
        }
    }

    fn from_meta(item: &Meta) -> darling::Result<Self> {
        match item {
            Meta::NameValue(nv) => Self::from_expr(&nv.value),
            _ => Err(darling::Error::custom(CRATE_FORMS).with_span(item)),
        }
    }
}

const CRATE_FORMS: &str = "`crate` must be an absolute path to the `cached-query` facade: \
     start it with `::` (e.g. `crate = ::my_lib::cached_query`), `crate` or `$crate`";

/// `returns = "result" | "option" | "value"`: how the return value is read. The one enum both
/// attributes parse into, and the policy `validate` decides (from the type when not written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Returns {
    /// Cache only `Ok` / invalidate only after `Ok`.
    Result,
    /// Cache only `Some` (and `None` with `cache_none`).
    Option,
    /// Cache every value / invalidate after every return.
    Value,
}

impl Returns {
    /// The runtime type implementing this policy.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Self::Result => "ResultPolicy",
            Self::Option => "OptionPolicy",
            Self::Value => "ValuePolicy",
        }
    }
}

impl Returns {
    /// The word `returns = "..."` spells it with.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Self::Result => "result",
            Self::Option => "option",
            Self::Value => "value",
        }
    }
}
