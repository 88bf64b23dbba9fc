//! Per-route rules: which requests a route caches, what goes into their key, which tags they
//! carry and for how long. A route's path pattern names the segments tags may use
//! (`/users/{id}` → `user:{id}`).

use http::{HeaderName, HeaderValue, StatusCode};
use std::fmt;
use std::time::Duration;

/// The rules of one cached route: `GET` and `HEAD` requests whose path matches its pattern.
///
/// ```
/// use cached_query_http::Route;
/// use std::time::Duration;
///
/// let route = Route::new("/users/{id}")
///     .ttl(Duration::from_secs(300))
///     .tags(["users", "user:{id}"])
///     .query(["fields"])
///     .vary(["accept-language"]);
/// # let _ = route;
/// ```
#[derive(Clone, Debug)]
pub struct Route {
    pub(crate) pattern: String,
    pub(crate) ttl: Duration,
    pub(crate) max_ttl: Duration,
    pub(crate) tags: Vec<String>,
    pub(crate) query: Vec<String>,
    pub(crate) headers: Vec<HeaderName>,
    /// Names given to [`vary`](Route::vary) that are not header names: refused when added.
    invalid_headers: Vec<String>,
    pub(crate) statuses: Vec<StatusCode>,
    pub(crate) allow_authorization: bool,
    pub(crate) stale_while_revalidate: Option<Duration>,
    pub(crate) client_cache_control: HeaderValue,
    pub(crate) max_body_bytes: u64,
}

impl Route {
    /// A route for paths matching `pattern`: literal segments and `{name}` segments, each of
    /// which matches one path segment (`/users/{id}/posts`). Cached for 60 s unless the
    /// response's `Cache-Control` says otherwise, status 200 only, no tags.
    ///
    /// ```
    /// let route = cached_query_http::Route::new("/users/{id}/posts");
    /// # let _ = route;
    /// ```
    pub fn new(pattern: impl Into<String>) -> Route {
        Route {
            pattern: pattern.into(),
            ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(24 * 3600),
            tags: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            invalid_headers: Vec::new(),
            statuses: vec![StatusCode::OK],
            allow_authorization: false,
            stale_while_revalidate: None,
            client_cache_control: HeaderValue::from_static("no-cache"),
            max_body_bytes: 1024 * 1024,
        }
    }

    /// How long a response is kept when it does not say (`Cache-Control: s-maxage` or
    /// `max-age`, which take precedence).
    ///
    /// ```
    /// let route = cached_query_http::Route::new("/a").ttl(std::time::Duration::from_secs(300));
    /// # let _ = route;
    /// ```
    pub fn ttl(mut self, ttl: Duration) -> Route {
        self.ttl = ttl;
        self
    }

    /// The longest a response's own `max-age`/`s-maxage` may keep it (one day by default).
    ///
    /// ```
    /// let route = cached_query_http::Route::new("/a").max_ttl(std::time::Duration::from_secs(3600));
    /// # let _ = route;
    /// ```
    pub fn max_ttl(mut self, max_ttl: Duration) -> Route {
        self.max_ttl = max_ttl;
        self
    }

    /// Tags of the cached responses, templated from the pattern's segments: with
    /// `/users/{id}`, `"user:{id}"` tags the response of `/users/42` `user:42`, so
    /// `invalidate_tag("user:42")` drops it with every cached query carrying that tag.
    ///
    /// ```
    /// let route = cached_query_http::Route::new("/users/{id}").tags(["users", "user:{id}"]);
    /// # let _ = route;
    /// ```
    pub fn tags<I, T>(mut self, tags: I) -> Route
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// Query parameters that are part of the key (in this order); the others are ignored, so
    /// `?utm_source=..` does not split the cache.
    ///
    /// ```
    /// let route = cached_query_http::Route::new("/search").query(["q", "page"]);
    /// # let _ = route;
    /// ```
    pub fn query<I, T>(mut self, names: I) -> Route
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.query.extend(names.into_iter().map(Into::into));
        self
    }

    /// Request headers that are part of the key. A response whose `Vary` names a header not
    /// listed here (or `*`) is not cached: it could differ for requests this key mixes up.
    ///
    /// Header names are written in any case; an invalid name is refused when the route is
    /// added ([`ResponseCacheLayer::try_route`](crate::ResponseCacheLayer::try_route)).
    ///
    /// ```
    /// let route = cached_query_http::Route::new("/home").vary(["accept-language"]);
    /// # let _ = route;
    /// ```
    pub fn vary<I, T>(mut self, headers: I) -> Route
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        for name in headers {
            match HeaderName::from_bytes(name.as_ref().as_bytes()) {
                Ok(header) => self.headers.push(header),
                Err(_) => self.invalid_headers.push(name.as_ref().to_owned()),
            }
        }
        self
    }

    /// The statuses that are cached (200 only by default).
    ///
    /// ```
    /// use http::StatusCode;
    ///
    /// let route = cached_query_http::Route::new("/a").statuses([StatusCode::OK, StatusCode::NOT_FOUND]);
    /// # let _ = route;
    /// ```
    pub fn statuses<I: IntoIterator<Item = StatusCode>>(mut self, statuses: I) -> Route {
        self.statuses = statuses.into_iter().collect();
        self
    }

    /// Caches requests carrying `Authorization` too. Only for responses that do not depend on
    /// who asks (a gate in front of public data); to cache per user, also add
    /// `.vary(["authorization"])`.
    ///
    /// ```
    /// let route = cached_query_http::Route::new("/catalog").allow_authorization();
    /// # let _ = route;
    /// ```
    pub fn allow_authorization(mut self) -> Route {
        self.allow_authorization = true;
        self
    }

    /// Once expired, a response is still served for `window` while one background request
    /// recomputes it (the runtime's `stale_while_revalidate`).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let route = cached_query_http::Route::new("/feed")
    ///     .ttl(Duration::from_secs(60))
    ///     .stale_while_revalidate(Duration::from_secs(300));
    /// # let _ = route;
    /// ```
    pub fn stale_while_revalidate(mut self, window: Duration) -> Route {
        self.stale_while_revalidate = Some(window);
        self
    }

    /// The largest body cached (1 MiB by default). A larger one, or one whose size is not
    /// known before it is read (a stream without `Content-Length`), is sent as it streams and
    /// not cached: the layer never buffers what it would not keep.
    ///
    /// ```
    /// let route = cached_query_http::Route::new("/report").max_body_bytes(8 * 1024 * 1024);
    /// # let _ = route;
    /// ```
    pub fn max_body_bytes(mut self, bytes: u64) -> Route {
        self.max_body_bytes = bytes;
        self
    }

    /// The `Cache-Control` sent with cached responses that have none of their own. The default,
    /// `no-cache`, lets clients keep a copy but ask each time, which a cached response answers
    /// with a `304` from memory; and an invalidation reaches them at once.
    ///
    /// ```
    /// use http::HeaderValue;
    ///
    /// let route = cached_query_http::Route::new("/logo")
    ///     .client_cache_control(HeaderValue::from_static("public, max-age=60"));
    /// # let _ = route;
    /// ```
    pub fn client_cache_control(mut self, value: HeaderValue) -> Route {
        self.client_cache_control = value;
        self
    }
}

/// A route the layer refused.
///
/// ```
/// use cached_query_http::{ResponseCacheLayer, Route};
///
/// let error = ResponseCacheLayer::new().try_route(Route::new("no-slash")).unwrap_err();
/// assert_eq!(error.to_string(), "cached route `no-slash`: a pattern starts with `/`");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteError {
    message: String,
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RouteError {}

/// One segment of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(String),
    Param(String),
}

/// One piece of a tag template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TagPart {
    Text(String),
    /// The index of a pattern segment.
    Segment(usize),
}

/// A route checked and compiled: its pattern split into segments, its tags into parts.
#[derive(Clone, Debug)]
pub(crate) struct CompiledRoute {
    pub(crate) route: Route,
    pub(crate) segments: Vec<Segment>,
    pub(crate) tags: Vec<Vec<TagPart>>,
}

fn error(route: &Route, problem: impl fmt::Display) -> RouteError {
    RouteError {
        message: format!("cached route `{}`: {problem}", route.pattern),
    }
}

impl CompiledRoute {
    pub(crate) fn compile(route: Route) -> Result<CompiledRoute, RouteError> {
        if !route.pattern.starts_with('/') {
            return Err(error(&route, "a pattern starts with `/`"));
        }
        let mut segments = Vec::new();
        for part in route.pattern.split('/').skip(1) {
            segments.push(match part.strip_prefix('{') {
                Some(rest) => match rest.strip_suffix('}') {
                    Some(name) if is_name(name) => Segment::Param(name.to_owned()),
                    _ => {
                        return Err(error(
                            &route,
                            format!("`{part}` is not a parameter: write `{{name}}`"),
                        ));
                    }
                },
                None if part.contains(['{', '}']) => {
                    return Err(error(
                        &route,
                        format!("`{part}`: a parameter takes a whole segment"),
                    ));
                }
                None => Segment::Literal(part.to_owned()),
            });
        }
        if let Some(name) = route.invalid_headers.first() {
            return Err(error(&route, format!("`{name}` is not a header name")));
        }
        let tags = route
            .tags
            .iter()
            .map(|tag| compile_tag(&route, &segments, tag))
            .collect::<Result<_, _>>()?;
        if route.statuses.is_empty() {
            return Err(error(&route, "no status to cache: give at least one"));
        }
        Ok(CompiledRoute {
            route,
            segments,
            tags,
        })
    }

    /// The parameters' values if `path` matches (one per pattern segment, literals included).
    pub(crate) fn matches<'p>(&self, path: &'p str) -> Option<Vec<&'p str>> {
        let parts: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let all = self
            .segments
            .iter()
            .zip(&parts)
            .all(|(segment, part)| match segment {
                Segment::Literal(literal) => literal == part,
                Segment::Param(_) => !part.is_empty(),
            });
        all.then_some(parts)
    }

    /// The route's tags for a matched path (`parts` from [`matches`](Self::matches)).
    pub(crate) fn tags_for(&self, parts: &[&str]) -> Vec<String> {
        self.tags
            .iter()
            .map(|template| {
                let mut tag = String::new();
                for piece in template {
                    match piece {
                        TagPart::Text(text) => tag.push_str(text),
                        TagPart::Segment(index) => {
                            tag.push_str(parts.get(*index).copied().unwrap_or_default());
                        }
                    }
                }
                tag
            })
            .collect()
    }
}

fn is_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn compile_tag(route: &Route, segments: &[Segment], tag: &str) -> Result<Vec<TagPart>, RouteError> {
    let mut parts = Vec::new();
    let mut rest = tag;
    while let Some(open) = rest.find('{') {
        let (text, after) = rest.split_at(open);
        if !text.is_empty() {
            parts.push(TagPart::Text(text.to_owned()));
        }
        let close = after
            .find('}')
            .ok_or_else(|| error(route, format!("tag `{tag}`: `{{` without `}}`")))?;
        let name = after.get(1..close).unwrap_or_default();
        let index = segments
            .iter()
            .position(|segment| *segment == Segment::Param(name.to_owned()))
            .ok_or_else(|| {
                error(
                    route,
                    format!(
                        "tag `{tag}` names `{{{name}}}`, which is not a segment of the pattern"
                    ),
                )
            })?;
        parts.push(TagPart::Segment(index));
        rest = after.get(close + 1..).unwrap_or_default();
    }
    if !rest.is_empty() {
        parts.push(TagPart::Text(rest.to_owned()));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(route: Route) -> CompiledRoute {
        match CompiledRoute::compile(route) {
            Ok(compiled) => compiled,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_pattern_matches_whole_segments_and_templates_tags() {
        let route = compiled(Route::new("/users/{id}/posts").tags(["users", "user:{id}:posts"]));
        let parts = route.matches("/users/42/posts");
        assert_eq!(parts.as_deref(), Some(&["users", "42", "posts"][..]));
        assert_eq!(
            route.tags_for(&["users", "42", "posts"]),
            ["users", "user:42:posts"]
        );
        assert!(route.matches("/users/42").is_none());
        assert!(route.matches("/users//posts").is_none());
        assert!(route.matches("/user/42/posts").is_none());
    }

    #[test]
    fn mistakes_in_a_route_are_refused_with_the_reason() {
        let refused = |route: Route| CompiledRoute::compile(route).err().map(|e| e.to_string());
        assert_eq!(
            refused(Route::new("/users/{id}").tags(["user:{uid}"])).as_deref(),
            Some(
                "cached route `/users/{id}`: tag `user:{uid}` names `{uid}`, which is not a segment of the pattern"
            )
        );
        assert!(refused(Route::new("users")).is_some());
        assert!(refused(Route::new("/users/{id")).is_some());
        assert!(refused(Route::new("/users/x{id}")).is_some());
        assert!(refused(Route::new("/a").vary(["bad header"])).is_some());
        assert!(refused(Route::new("/a").statuses([])).is_some());
    }
}
