//! Error accumulation and the fallback expansion: on any error we emit every error followed by
//! the user's function unchanged, so IDEs keep working and nothing cascades.

use proc_macro2::TokenStream;
use quote::quote;

/// All errors found in one expansion, combined into one `syn::Error`.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Records an error.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Records a darling error (which may hold several errors).
    pub(crate) fn push_darling(&mut self, error: darling::Error) {
        self.push(error.into());
    }

    /// Whether nothing was recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// `Err` with every recorded error, or `Ok(())` when there are none.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// The errors as `compile_error!` invocations, then the user's item exactly as written.
pub(crate) fn fallback(errors: syn::Error, item: TokenStream) -> TokenStream {
    let errors = errors.into_compile_error();
    quote! {
        #errors
        #item
    }
}
