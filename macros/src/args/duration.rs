//! Durations: `ttl = 60` (whole seconds) or `ttl = "1h30m"`, for every duration option.

use darling::FromMeta;
use proc_macro2::Span;
use syn::{Expr, Lit};

/// The forms `ttl` and `none_ttl` accept, quoted in every duration error.
pub(crate) const DURATION_FORMS: &str = "expected integer seconds (`ttl = 60`) or a duration \
     string such as \"150ms\", \"30s\", \"5m\", \"1h30m\", \"2h\" or \"1d\" (units `ms`, `s`, \
     `m`, `h`, `d`; components written together without spaces)";

/// A positive duration in milliseconds, with the span of the value that produced it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Duration {
    pub(crate) millis: u64,
    pub(crate) span: Span,
}

impl FromMeta for Duration {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        match expr {
            Expr::Lit(lit) => Self::from_value(&lit.lit),
            Expr::Group(group) => Self::from_expr(&group.expr),
            _ => Err(
                darling::Error::custom(format!("invalid duration: {DURATION_FORMS}"))
                    .with_span(expr),
            ),
        }
    }

    fn from_value(value: &Lit) -> darling::Result<Self> {
        let millis = match value {
            Lit::Int(int) => int
                .base10_parse::<u64>()
                .ok()
                .and_then(|secs| secs.checked_mul(1000))
                .ok_or_else(|| format!("duration `{int}` is too large: {DURATION_FORMS}")),
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

/// Parses `"150ms"`, `"30s"`, `"1h30m"`, ... into milliseconds (zero is returned as `Ok(0)`).
pub(crate) fn parse_duration(text: &str) -> Result<u64, String> {
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
