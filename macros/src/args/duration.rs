//! Durations: `ttl = 60` (whole seconds), `ttl = "1h30m"` or `ttl = 1h30m`, for every duration
//! option. A unit is always read as written: `100ms` is a tenth of a second, never 100 s.

use darling::FromMeta;
use proc_macro2::Span;
use quote::ToTokens;
use syn::{Expr, Lit, LitFloat, LitInt, Meta};

use super::shape;

/// The forms `ttl` and `none_ttl` accept, quoted in every duration error.
pub(crate) const DURATION_FORMS: &str = "expected integer seconds (`ttl = 60`) or a duration \
     string such as \"150ms\", \"30s\", \"5m\", \"1h30m\", \"2h\" or \"1d\" (units `ms`, `s`, \
     `m`, `h`, `d`; components written together without spaces), or \"forever\" for a TTL";

/// `"forever"`: an entry that never expires, as milliseconds (the runtime's deadline
/// saturates).
pub(crate) const FOREVER_MILLIS: u64 = u64::MAX;

/// A positive duration in milliseconds, with the span of the value that produced it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Duration {
    pub(crate) millis: u64,
    pub(crate) span: Span,
}

impl Duration {
    /// `"forever"`.
    pub(crate) fn is_forever(&self) -> bool {
        self.millis == FOREVER_MILLIS
    }
}

impl FromMeta for Duration {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        match item {
            Meta::NameValue(nv) => Self::from_expr(&nv.value),
            _ => Err(shape::error(item, "a duration")),
        }
    }

    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        match expr {
            Expr::Lit(lit) => Self::from_value(&lit.lit),
            Expr::Group(group) => Self::from_expr(&group.expr),
            Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Neg(_)) => Err(negative(expr)),
            // `ttl = forever`: the word is right, unquoted like `5m` may be.
            Expr::Path(path) if path.path.is_ident("forever") => Ok(Self {
                millis: FOREVER_MILLIS,
                span: syn::spanned::Spanned::span(path),
            }),
            _ => Err(
                darling::Error::custom(format!("invalid duration: {DURATION_FORMS}"))
                    .with_span(expr),
            ),
        }
    }

    fn from_value(value: &Lit) -> darling::Result<Self> {
        let millis = match value {
            Lit::Int(int) if int.base10_digits().starts_with('-') => return Err(negative(int)),
            Lit::Float(float) if float.base10_digits().starts_with('-') => {
                return Err(negative(float));
            }
            Lit::Int(int) => int_millis(int),
            Lit::Float(float) => Err(fraction(float)),
            Lit::Str(s) => parse_duration(&s.value()),
            _ => Err(format!("invalid duration: {DURATION_FORMS}")),
        }
        .and_then(|millis| match millis {
            0 => Err(format!(
                "a cache duration must be greater than zero: {DURATION_FORMS}"
            )),
            n => Ok(n),
        })
        .map_err(|msg| darling::Error::custom(msg).with_span(value))?;
        Ok(Self {
            millis,
            span: value.span(),
        })
    }
}

fn negative<T: ToTokens>(value: &T) -> darling::Error {
    darling::Error::custom(format!(
        "a cache duration must be positive: {DURATION_FORMS}"
    ))
    .with_span(value)
}

/// `60`: whole seconds. `100ms`, `5m`, `1h30m` (a number and a unit, unquoted): read with
/// their unit, exactly as `"100ms"` is, never as seconds. A Rust type suffix (`60u64`) is
/// refused: it is not a unit.
fn int_millis(int: &LitInt) -> Result<u64, String> {
    let digits = int.base10_digits();
    match int.suffix() {
        "" => digits
            .parse::<u64>()
            .ok()
            .and_then(|secs| secs.checked_mul(1000))
            .ok_or_else(|| format!("duration `{int}` is too large: {DURATION_FORMS}")),
        suffix if is_type_suffix(suffix) => Err(format!(
            "`{int}`: a duration takes no type suffix; write `{digits}` (whole seconds) or \
             `\"{digits}s\"`"
        )),
        suffix => parse_duration(&format!("{digits}{suffix}")),
    }
}

fn is_type_suffix(suffix: &str) -> bool {
    matches!(
        suffix,
        "u8" | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "usize"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "isize"
            | "f32"
            | "f64"
    )
}

/// `1.5` or `1.5h`: durations are whole numbers of a unit; the error says which whole number.
fn fraction(float: &LitFloat) -> String {
    let per_unit = match float.suffix() {
        "" | "s" => Some(1_000.0),
        "ms" => Some(1.0),
        "m" => Some(60_000.0),
        "h" => Some(3_600_000.0),
        "d" => Some(86_400_000.0),
        _ => None,
    };
    let exact = float
        .base10_digits()
        .parse::<f64>()
        .ok()
        .zip(per_unit)
        .map(|(n, per_unit)| n * per_unit)
        .filter(|ms| ms.fract() == 0.0 && *ms >= 1.0 && *ms < 1e15);
    match exact {
        // In range and whole: the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(ms) => format!(
            "a duration is a whole number of a unit, not a fraction: write `\"{}\"` instead of \
             `{float}`",
            spell(ms as u64)
        ),
        None => format!("a duration is a whole number of a unit, not a fraction: {DURATION_FORMS}"),
    }
}

/// Milliseconds in the duration syntax, largest units first: 5_400_000 → `1h30m`.
pub(crate) fn spell(mut ms: u64) -> String {
    let mut out = String::new();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

/// Parses `"150ms"`, `"30s"`, `"1h30m"`, ... into milliseconds (zero is returned as `Ok(0)`);
/// `"forever"` is [`FOREVER_MILLIS`].
pub(crate) fn parse_duration(text: &str) -> Result<u64, String> {
    if text == "forever" {
        return Ok(FOREVER_MILLIS);
    }
    let bad = |why: &str| format!("invalid duration \"{text}\" ({why}): {DURATION_FORMS}");
    if text.is_empty() {
        return Err(bad("empty string"));
    }
    let mut rest = text;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(match rest.chars().next() {
                Some(c) if !c.is_ascii_alphabetic() => bad(&format!("unexpected character `{c}`")),
                _ => bad("expected a number before each unit"),
            });
        }
        let (number, after) = rest.split_at(digits);
        let units = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(units);
        let per_unit: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => match after.chars().next() {
                Some(c) => return Err(bad(&format!("unexpected character `{c}`"))),
                None => return Err(bad("missing unit")),
            },
            _ => return Err(bad(&format!("unknown unit `{unit}`"))),
        };
        total = number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(per_unit))
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(|| bad("too large"))?;
        rest = after;
    }
    Ok(total)
}
