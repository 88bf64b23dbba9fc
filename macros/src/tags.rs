//! Tag templates: `"user:{id}"`, `"org:{user.org_id}"`, `"{self.id}"`, `{{`/`}}` escapes.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{ToTokens, TokenStreamExt, quote_spanned};
use syn::LitStr;

/// A parsed tag template.
#[derive(Debug, Clone)]
pub(crate) struct TagTemplate {
    /// The literal as the user wrote it (for spans).
    pub(crate) lit: LitStr,
    /// Literal text and placeholders, in order.
    pub(crate) pieces: Vec<Piece>,
}

/// A tag template as tokens (see [`TagTemplate::emit`]).
pub(crate) enum TagTokens {
    /// A tag without placeholders: its text, escapes resolved.
    Plain(LitStr),
    /// `"user:{}", id`: the arguments of a formatting macro.
    Format(TokenStream),
}

#[derive(Debug, Clone)]
pub(crate) enum Piece {
    /// Literal text, escapes already resolved.
    Text(String),
    /// `{root.field.field}`.
    Placeholder(Placeholder),
}

#[derive(Debug, Clone)]
pub(crate) struct Placeholder {
    /// The root binding: a parameter name or `self`.
    pub(crate) root: String,
    /// Field accesses after the root (`org_id`, `0`).
    pub(crate) fields: Vec<syn::Member>,
}

impl Placeholder {
    /// `user.org_id` as an expression, every token spanned at `span`.
    pub(crate) fn to_expr(&self, span: Span) -> TokenStream {
        let mut tokens = match syn::parse_str::<Ident>(&self.root) {
            Ok(mut ident) => {
                ident.set_span(span);
                ident.into_token_stream()
            }
            Err(_) => quote_spanned!(span=> self),
        };
        for field in &self.fields {
            tokens.extend(quote_spanned!(span=> .));
            match field {
                syn::Member::Named(ident) => {
                    let mut ident = ident.clone();
                    ident.set_span(span);
                    tokens.append(ident);
                }
                syn::Member::Unnamed(index) => {
                    let mut index = Literal::u32_unsuffixed(index.index);
                    index.set_span(span);
                    tokens.append(index);
                }
            }
        }
        tokens
    }
}

const HELP: &str = "tag templates are text with `{param}` or `{param.field}` placeholders \
     naming the function's parameters; write `{{` and `}}` for literal braces";

impl TagTemplate {
    /// Parses a tag literal; errors are spanned on the literal.
    pub(crate) fn parse(lit: &LitStr) -> syn::Result<Self> {
        let err = |msg: String| syn::Error::new(lit.span(), msg);
        let value = lit.value();
        if value.is_empty() {
            return Err(err("a tag must not be empty".to_owned()));
        }
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = value.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '}' => return Err(err(format!("unmatched `}}` in tag \"{value}\": {HELP}"))),
                '{' => {
                    let mut inner = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some('{') | None => {
                                return Err(err(format!(
                                    "unclosed `{{` in tag \"{value}\": {HELP}"
                                )));
                            }
                            Some(c) => inner.push(c),
                        }
                    }
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Placeholder(parse_placeholder(&inner).map_err(err)?));
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Self {
            lit: lit.clone(),
            pieces,
        })
    }

    /// The placeholders of this template.
    pub(crate) fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Placeholder(p) => Some(p),
            Piece::Text(_) => None,
        })
    }

    /// The text with escapes resolved, when the template has no placeholders.
    fn plain_text(&self) -> Option<String> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Placeholder(_) => return None,
            }
        }
        Some(out)
    }

    /// The tag as tokens, every one spanned at the literal: its text when it has no
    /// placeholder, else the arguments of a `format_args!`/`format!` call. The one place tags
    /// are turned into code; each attribute wraps the result in its own call.
    ///
    /// The placeholders' expressions point at the literal but belong to the macro's expansion
    /// (`call_site` resolves them as the user's own names): rustc then reports a mistyped field
    /// at the tag without suggesting to replace the string literal by the field's name.
    pub(crate) fn emit(&self) -> TagTokens {
        let span = self.lit.span();
        match self.plain_text() {
            Some(text) => TagTokens::Plain(LitStr::new(&text, span)),
            None => {
                let format = LitStr::new(&self.format_string(), span);
                let located = Span::call_site().located_at(span);
                let args = self.placeholders().map(|p| p.to_expr(located));
                TagTokens::Format(quote_spanned!(span=> #format #(, #args)*))
            }
        }
    }

    /// The `format_args!` format string: text re-escaped, placeholders as `{}`.
    fn format_string(&self) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(&t.replace('{', "{{").replace('}', "}}")),
                Piece::Placeholder(_) => out.push_str("{}"),
            }
        }
        out
    }
}

fn parse_placeholder(inner: &str) -> Result<Placeholder, String> {
    if inner.trim().is_empty() {
        return Err(format!(
            "empty placeholder `{{}}` in tag: name a parameter, e.g. `{{id}}`; {HELP}"
        ));
    }
    if let Some((path, _)) = inner.split_once(':') {
        return Err(format!(
            "format specs are not supported in tag placeholders: write `{{{path}}}` instead of `{{{inner}}}` (values are formatted with `Display`)"
        ));
    }
    let mut segments = inner.split('.');
    let root = segments.next().unwrap_or_default();
    let valid_root = root == "self" || syn::parse_str::<Ident>(root).is_ok();
    let fields: Option<Vec<syn::Member>> = segments
        .map(|f| {
            if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) {
                f.parse::<u32>().ok().map(|index| {
                    syn::Member::Unnamed(syn::Index {
                        index,
                        span: Span::call_site(),
                    })
                })
            } else {
                syn::parse_str::<Ident>(f).ok().map(syn::Member::Named)
            }
        })
        .collect();
    let (true, Some(fields)) = (valid_root, fields) else {
        return Err(format!(
            "invalid placeholder `{{{inner}}}`: expected a parameter name or a field path such as `{{user.org_id}}`; {HELP}"
        ));
    };
    Ok(Placeholder {
        root: root.to_owned(),
        fields,
    })
}
