//! [`Keyspace`]: manual entries under a name of their own, with options a plain
//! [`remember`](crate::remember) cannot take: `stale_while_revalidate`, and a TTL or a decision
//! to store taken from the computed value ([`Rules`]). Built for callers that cache what is not
//! a function call but want it to behave like a cached function: the HTTP response layer
//! (`cached-query-http`) keeps one per route.
//!
//! A keyspace is a call site made at run time (the same machinery as `#[cached_query]`'s
//! `static`, so single-flight, tags, the shared tier and stats apply unchanged). Keyspaces are
//! interned by name and options, and live as long as the process.

use crate::bounds::{CacheValue, KeyArg};
use crate::engine::{Enter, cooperate, enter};
use crate::key::{Key, KeyBuilder};
use crate::policy::ValuePolicy;
use crate::site::{Site, SiteConfig};
use crate::value::codec;
use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Every keyspace made so far, by name and `stale_while_revalidate` window: asking twice for
/// the same one returns the same site, so its stats stay one row.
static KEYSPACES: Mutex<Vec<&'static Keyspace>> = Mutex::new(Vec::new());

/// A named group of cached entries, counted in [`stats`](crate::stats) under its own name, with
/// its own implicit tag and options. Keys are any `Serialize` value, as for
/// [`remember`](crate::remember), in a key space of their own.
///
/// ```
/// use cached_query_runtime::{Keyspace, Rules};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let pages = Keyspace::named("pages");
/// let page: String = pages
///     .remember(&"/about", &["pages"], Rules::ttl(Duration::from_secs(60)), || async {
///         "<h1>About</h1>".to_string()
///     })
///     .await;
/// assert_eq!(page, "<h1>About</h1>");
/// assert!(cached_query_runtime::stats().function("pages").is_some());
/// # }
/// ```
pub struct Keyspace {
    site: Site,
}

impl std::fmt::Debug for Keyspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyspace")
            .field("name", &self.site.config.name)
            .field("revalidate_ms", &self.site.config.revalidate_ms)
            .finish()
    }
}

impl Keyspace {
    /// The keyspace named `name`, without `stale_while_revalidate`.
    ///
    /// ```
    /// let a = cached_query_runtime::Keyspace::named("reports");
    /// let b = cached_query_runtime::Keyspace::named("reports");
    /// assert!(std::ptr::eq(a, b));
    /// ```
    pub fn named(name: &str) -> &'static Keyspace {
        Keyspace::with_revalidation(name, None)
    }

    /// The keyspace named `name` whose entries, once expired, are still returned for `window`
    /// while one background call recomputes them (`stale_while_revalidate`).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let feeds = cached_query_runtime::Keyspace::revalidating("feeds", Duration::from_secs(30));
    /// # let _ = feeds;
    /// ```
    pub fn revalidating(name: &str, window: Duration) -> &'static Keyspace {
        let ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        Keyspace::with_revalidation(name, Some(ms))
    }

    fn with_revalidation(name: &str, revalidate_ms: Option<u64>) -> &'static Keyspace {
        let mut made = KEYSPACES.lock().unwrap_or_else(PoisonError::into_inner);
        let same = |space: &&&'static Keyspace| {
            space.site.config.name == Some(name) && space.site.config.revalidate_ms == revalidate_ms
        };
        if let Some(space) = made.iter().find(same) {
            return space;
        }
        let space: &'static Keyspace = Box::leak(Box::new(Keyspace {
            site: Site::new(SiteConfig {
                name: Some(Box::leak(name.to_owned().into_boxed_str())),
                revalidate_ms,
                ..SiteConfig::DEFAULT
            }),
        }));
        made.push(space);
        space
    }

    /// The keyspace's name, as its row in [`stats`](crate::stats) shows it.
    ///
    /// ```
    /// assert_eq!(cached_query_runtime::Keyspace::named("pages").name(), "pages");
    /// ```
    pub fn name(&self) -> &'static str {
        self.site.config.name.unwrap_or_default()
    }

    fn key_of<K: KeyArg + ?Sized>(&'static self, key: &K) -> Key {
        let mut builder = KeyBuilder::new(&self.site, || {});
        builder.arg(key);
        builder.finish()
    }

    /// The value cached under `key`, or the result of `compute`, then stored under `tags` as
    /// `rules` say. Concurrent calls with the same key run `compute` once; in a revalidating
    /// keyspace an expired value inside the window is returned at once and `compute` runs in a
    /// background task (hence `Send + 'static`).
    ///
    /// ```
    /// use cached_query_runtime::{Keyspace, Rules};
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// // A value that says how long it may be kept, and whether at all.
    /// let rules = Rules::ttl(Duration::from_secs(60))
    ///     .unless(|quote: &(u32, u64)| quote.0 == 0)
    ///     .ttl_from(|quote: &(u32, u64)| Some(Duration::from_secs(quote.1)));
    /// let quote = Keyspace::named("quotes")
    ///     .remember(&"EUR", &["fx"], rules, || async { (108u32, 5u64) })
    ///     .await;
    /// assert_eq!(quote, (108, 5));
    /// # }
    /// ```
    pub async fn remember<K, V, F, Fut>(
        &'static self,
        key: &K,
        tags: &[&str],
        rules: Rules<V>,
        compute: F,
    ) -> V
    where
        K: KeyArg + ?Sized,
        V: CacheValue,
        F: FnOnce() -> Fut,
        Fut: Future<Output = V> + Send + 'static,
    {
        cooperate().await;
        match enter(&self.site, self.key_of(key), codec::<ValuePolicy, V>()) {
            Enter::Hit(value) => value,
            Enter::Miss(mut miss) => {
                for tag in tags {
                    miss.tag(tag);
                }
                miss.set_ttl(rules.ttl);
                if let Some(unless) = rules.unless {
                    miss.unless(unless);
                }
                if let Some(ttl_from) = rules.ttl_from {
                    miss.ttl_from(ttl_from);
                }
                miss.run_or_revalidate(compute()).await
            }
        }
    }
}

/// How a value computed by [`Keyspace::remember`] is stored: for how long, and whether at all.
///
/// ```
/// use cached_query_runtime::Rules;
/// use std::time::Duration;
///
/// let rules: Rules<String> = Rules::ttl(Duration::from_secs(30)).unless(String::is_empty);
/// # let _ = rules;
/// ```
pub struct Rules<V> {
    ttl: Duration,
    unless: Option<fn(&V) -> bool>,
    ttl_from: Option<fn(&V) -> Option<Duration>>,
}

impl<V> std::fmt::Debug for Rules<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("ttl", &self.ttl)
            .field("unless", &self.unless.is_some())
            .field("ttl_from", &self.ttl_from.is_some())
            .finish()
    }
}

impl<V> Rules<V> {
    /// Stores every value for `ttl`.
    ///
    /// ```
    /// let rules: cached_query_runtime::Rules<u32> =
    ///     cached_query_runtime::Rules::ttl(std::time::Duration::from_secs(60));
    /// # let _ = rules;
    /// ```
    pub fn ttl(ttl: Duration) -> Rules<V> {
        Rules {
            ttl,
            unless: None,
            ttl_from: None,
        }
    }

    /// Does not store the values `unless` accepts (as the attribute's `unless` option): they go
    /// back to their caller uncached, and each caller that waited on that computation computes
    /// its own.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rules = cached_query_runtime::Rules::ttl(Duration::from_secs(60))
    ///     .unless(|page: &String| page.contains("maintenance"));
    /// # let _ = rules;
    /// ```
    pub fn unless(mut self, unless: fn(&V) -> bool) -> Rules<V> {
        self.unless = Some(unless);
        self
    }

    /// Stores a value for the TTL `ttl_from` reads from it, when it gives one (else the rules'
    /// TTL).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// // A value that carries its own lifetime, in seconds.
    /// let rules = cached_query_runtime::Rules::ttl(Duration::from_secs(60))
    ///     .ttl_from(|quote: &(f64, u64)| Some(Duration::from_secs(quote.1)));
    /// # let _ = rules;
    /// ```
    pub fn ttl_from(mut self, ttl_from: fn(&V) -> Option<Duration>) -> Rules<V> {
        self.ttl_from = Some(ttl_from);
        self
    }
}

#[cfg(test)]
#[path = "keyspace_tests.rs"]
mod tests;
