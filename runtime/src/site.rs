//! Call sites: the options written in one attribute, and the TTLs they resolve to.

use crate::function::{FunctionState, Instantiation, is_instantiated, path_from_marker};
use crate::runtime::Runtime;
use std::sync::OnceLock;
use std::time::Duration;

/// The TTL of an entry that never expires (`put_forever`, `ttl = "forever"`): it stays until
/// it is evicted, invalidated or removed. In a shared tier it is kept for a century.
///
/// ```
/// use cached_query_runtime::FOREVER;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// cached_query_runtime::put(&"settings", 7u32, FOREVER, &[]).await;
/// assert_eq!(cached_query_runtime::ttl_of(&"settings").await, Some(FOREVER));
/// # }
/// ```
pub const FOREVER: Duration = Duration::MAX;

/// Whether entries stored for `ttl` never expire: [`FOREVER`], or a TTL so long that the
/// deadline saturates anyway (the attribute's `"forever"` is `u64::MAX` milliseconds).
pub(crate) fn is_forever(ttl: Duration) -> bool {
    ttl >= Duration::from_millis(u64::MAX)
}

/// Options of one annotated function, as written in its attribute.
#[derive(Debug)]
pub struct SiteConfig {
    /// `name = ".."`: an identity that survives renames and compiler upgrades.
    pub name: Option<&'static str>,
    /// `store = ".."`: the named store the application configured for this function.
    pub store: Option<&'static str>,
    /// `version = N`.
    pub version: u32,
    /// `ttl`, in milliseconds; `None`: the configured default; `u64::MAX`: forever.
    pub ttl_ms: Option<u64>,
    /// `cache_none`.
    pub cache_none: bool,
    /// `none_ttl`, in milliseconds; `None`: the function's TTL.
    pub none_ttl_ms: Option<u64>,
    /// `stale_if_error`, in milliseconds: how long after expiry a value may still be returned
    /// when the function fails.
    pub stale_if_error_ms: Option<u64>,
    /// `min_compute`, in milliseconds: results computed faster than this are not stored.
    pub min_compute_ms: Option<u64>,
    /// `stale_while_revalidate`, in milliseconds: how long after expiry a value is still
    /// returned at once while one background call recomputes it.
    pub revalidate_ms: Option<u64>,
    /// `early_refresh`: the XFetch `beta` (1.0 by default; larger refreshes earlier).
    pub early_refresh: Option<f64>,
    /// `err_ttl`, in milliseconds: how long errors chosen by `cache_err` are cached; `None`:
    /// the function's TTL.
    pub err_ttl_ms: Option<u64>,
}

impl SiteConfig {
    /// No option set: the configured default TTL, version 0, the function's path as its name.
    /// Hand-made sites (the manual API, benchmarks) start from it with `..SiteConfig::DEFAULT`.
    pub const DEFAULT: SiteConfig = SiteConfig {
        name: None,
        store: None,
        version: 0,
        ttl_ms: None,
        cache_none: false,
        none_ttl_ms: None,
        stale_if_error_ms: None,
        min_compute_ms: None,
        revalidate_ms: None,
        early_refresh: None,
        err_ttl_ms: None,
    };
}

/// One annotated function: a `static` in its body. Non-generic, so every instantiation of a
/// generic function (or of a trait default body) shares it; the instantiation goes into the key
/// instead.
pub struct Site {
    pub(crate) config: SiteConfig,
    /// Whether its entries keep when they were stored ([`age_of`](crate::age_of) asks the
    /// manual API's entries; a function's entries do without the 8 bytes).
    pub(crate) keeps_age: bool,
    state: OnceLock<FunctionState>,
}

impl Site {
    /// A site with these options.
    pub const fn new(config: SiteConfig) -> Site {
        Site {
            config,
            keeps_age: false,
            state: OnceLock::new(),
        }
    }

    /// A site whose entries keep when they were stored.
    pub(crate) const fn keeping_ages(config: SiteConfig) -> Site {
        Site {
            config,
            keeps_age: true,
            state: OnceLock::new(),
        }
    }

    /// The function's state, created on its first call. `I` is the marker fn declared in its
    /// body; `instance`, the `type_name` of a closure declared there, if the caller has one
    /// (see [`is_instantiated`]).
    pub(crate) fn function<I>(
        &'static self,
        instance: Option<&'static str>,
    ) -> &'static FunctionState {
        if let Some(state) = self.state.get() {
            return state;
        }
        let mut created = false;
        let state = self.state.get_or_init(|| {
            created = true;
            let marker = std::any::type_name::<I>();
            let name = match self.config.name {
                Some(name) => name,
                None => path_from_marker(marker),
            };
            let instantiation = instance
                .filter(|instance| is_instantiated(marker, instance))
                .map(Instantiation::new);
            FunctionState::new(name.into(), self.config.version, instantiation)
        });
        if created {
            crate::runtime::register(state);
        }
        state
    }

    pub(crate) fn ttl(&self, runtime: &Runtime) -> Duration {
        self.config
            .ttl_ms
            .map_or(runtime.default_ttl, Duration::from_millis)
    }

    pub(crate) fn none_ttl(&self, runtime: &Runtime) -> Duration {
        self.config
            .none_ttl_ms
            .map_or_else(|| self.ttl(runtime), Duration::from_millis)
    }

    pub(crate) fn err_ttl(&self, runtime: &Runtime) -> Duration {
        self.config
            .err_ttl_ms
            .map_or_else(|| self.ttl(runtime), Duration::from_millis)
    }
}
