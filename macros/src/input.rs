//! Our model of the annotated function: the parsed item and its parameters.

use proc_macro2::{Ident, TokenStream};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::visit::Visit;
use syn::{Attribute, FnArg, ItemFn, Pat, ReceiverKind, Signature, Token, Type, Visibility};

/// What the attribute was applied to.
pub(crate) enum Input {
    /// A function with a body.
    Fn(Box<FnInput>),
    /// A signature without a body (a trait method declaration).
    Declaration(Box<Signature>),
}

/// A function with a body, plus its parameter list.
pub(crate) struct FnInput {
    /// The user's item, edited in place by `expand`.
    pub(crate) item: ItemFn,
    /// Every parameter, receiver included, in order.
    pub(crate) params: Vec<Param>,
}

/// One parameter of the function.
pub(crate) enum Param {
    /// `self`, `&self`, `&mut self`, `self: Arc<Self>`, ...
    Receiver {
        /// The user's `self` token.
        self_token: Token![self],
        /// `self` / `mut self` without a reference or an explicit type.
        by_value: bool,
        /// The tokens that borrow (`&self`, `&mut Self` in `self: Pin<&mut Self>`), if any.
        borrows: Option<TokenStream>,
    },
    /// `pattern: Type`.
    Typed {
        /// Identifiers the pattern binds, in order (`_` binds nothing).
        bindings: Vec<Ident>,
        /// The parameter's type.
        ty: Box<Type>,
    },
}

impl Param {
    /// Where the parameter borrows data it does not own, if it does: a reference or a lifetime
    /// other than `'static` in its type.
    pub(crate) fn borrows(&self) -> Option<TokenStream> {
        match self {
            Self::Receiver { borrows, .. } => borrows.clone(),
            Self::Typed { ty, .. } => borrowed_part(ty),
        }
    }
}

impl Param {
    /// The name `skip(...)` and tag placeholders use for each binding of this parameter.
    pub(crate) fn binding_names(&self) -> Vec<String> {
        match self {
            Self::Receiver { .. } => vec!["self".to_owned()],
            Self::Typed { bindings, .. } => bindings.iter().map(ToString::to_string).collect(),
        }
    }
}

impl FnInput {
    /// Every name a `skip(...)` entry or a tag placeholder may refer to.
    pub(crate) fn binding_names(&self) -> Vec<String> {
        self.params.iter().flat_map(Param::binding_names).collect()
    }
}

/// Parses the annotated item. Bodies are parsed by syn; a missing body is reported by `validate`.
/// An `impl` block, a module or a trait gets an error saying where the attribute goes instead
/// (`attribute` is its name, `` `#[cached_query]` ``).
pub(crate) fn parse(item: TokenStream, attribute: &str) -> syn::Result<Input> {
    match syn::parse2::<ItemFn>(item.clone()) {
        Ok(item) => {
            let params = item.sig.inputs.iter().map(param).collect();
            Ok(Input::Fn(Box::new(FnInput { item, params })))
        }
        Err(err) => match syn::parse2::<Declaration>(item.clone()) {
            Ok(decl) => Ok(Input::Declaration(Box::new(decl.sig))),
            Err(_) => Err(misplaced(item, attribute).unwrap_or(err)),
        },
    }
}

/// The error for an attribute put on an item that holds functions, or on no function at all.
fn misplaced(item: TokenStream, attribute: &str) -> Option<syn::Error> {
    let (tokens, msg) = match syn::parse2::<syn::Item>(item).ok()? {
        syn::Item::Impl(item) => (
            item.impl_token.to_token_stream(),
            format!(
                "{attribute} goes on each `async fn` it applies to, not on an `impl` block: put \
                 it on each method"
            ),
        ),
        syn::Item::Mod(item) => (
            item.mod_token.to_token_stream(),
            format!(
                "{attribute} goes on each `async fn` it applies to, not on a module: put it on \
                 each function"
            ),
        ),
        syn::Item::Trait(item) => (
            item.trait_token.to_token_stream(),
            format!(
                "{attribute} goes on each `async fn` it applies to, not on a trait: put it on \
                 each method that has a default body, or on the methods of its implementations"
            ),
        ),
        other => (
            other.to_token_stream(),
            format!("{attribute} applies to an `async fn`"),
        ),
    };
    Some(syn::Error::new_spanned(tokens, msg))
}

/// `#[attrs] vis fn sig;`
struct Declaration {
    sig: Signature,
}

impl Parse for Declaration {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let _attrs = input.call(Attribute::parse_outer)?;
        let _vis: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        let _semi: Token![;] = input.parse()?;
        Ok(Self { sig })
    }
}

fn param(arg: &FnArg) -> Param {
    match arg {
        FnArg::Receiver(receiver) => Param::Receiver {
            self_token: receiver.self_token,
            by_value: matches!(receiver.kind, ReceiverKind::Value),
            borrows: match &receiver.kind {
                ReceiverKind::Reference(_, Some(lifetime), _) if lifetime.ident == "static" => None,
                ReceiverKind::Reference(..) => Some(receiver.to_token_stream()),
                ReceiverKind::Typed(_, ty) => borrowed_part(ty),
                _ => None,
            },
        },
        FnArg::Typed(pat_type) => {
            let mut bindings = Vec::new();
            collect_bindings(&pat_type.pat, &mut bindings);
            Param::Typed {
                bindings,
                ty: pat_type.ty.clone(),
            }
        }
    }
}

/// Collects every identifier a pattern binds, in source order. Never panics on odd patterns:
/// rustc's own errors about them are more informative than ours would be.
pub(crate) fn collect_bindings(pat: &Pat, out: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(p) => {
            out.push(p.ident.clone());
            if let Some((_, sub)) = &p.subpat {
                collect_bindings(sub, out);
            }
        }
        Pat::Tuple(p) => p.elems.iter().for_each(|e| collect_bindings(e, out)),
        Pat::TupleStruct(p) => p.elems.iter().for_each(|e| collect_bindings(e, out)),
        Pat::Struct(p) => p.fields.iter().for_each(|f| collect_bindings(&f.pat, out)),
        Pat::Slice(p) => p.elems.iter().for_each(|e| collect_bindings(e, out)),
        Pat::Reference(p) => collect_bindings(&p.pat, out),
        Pat::Paren(p) => collect_bindings(&p.pat, out),
        Pat::Type(p) => collect_bindings(&p.pat, out),
        // Every alternative binds the same names.
        Pat::Or(p) => {
            if let Some(first) = p.cases.first() {
                collect_bindings(first, out);
            }
        }
        _ => {}
    }
}

/// The first reference or lifetime in `ty` that is not `'static`, as tokens to span an error on.
pub(crate) fn borrowed_part(ty: &Type) -> Option<TokenStream> {
    struct Finder(Option<TokenStream>);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_reference(&mut self, node: &'ast syn::TypeReference) {
            match &node.lifetime {
                Some(lifetime) if lifetime.ident == "static" => self.visit_type(&node.elem),
                _ => {
                    self.0.get_or_insert_with(|| node.to_token_stream());
                }
            }
        }
        fn visit_lifetime(&mut self, node: &'ast syn::Lifetime) {
            if node.ident != "static" {
                self.0.get_or_insert_with(|| node.to_token_stream());
            }
        }
    }
    let mut finder = Finder(None);
    finder.visit_type(ty);
    finder.0
}

/// Whether `ty` mentions `impl Trait` anywhere.
pub(crate) fn contains_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    finder.visit_type(ty);
    finder.0
}
