//! Which requests and responses a route caches, and for how long: the HTTP rules, apart from
//! the mechanics of the layer.

use crate::route::Route;
use http::header::{self, HeaderMap};
use http::{Method, StatusCode};
use std::time::Duration;

/// Whether a request may be answered from the cache: `GET` or `HEAD`, and no `Authorization`
/// unless the route allows it.
pub(crate) fn request_is_cacheable(route: &Route, method: &Method, headers: &HeaderMap) -> bool {
    (method == Method::GET || method == Method::HEAD)
        && (route.allow_authorization || !headers.contains_key(header::AUTHORIZATION))
}

/// What a response's headers allow.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Storable {
    /// Store it, for its own TTL when it gives one (else the route's).
    Yes(Option<Duration>),
    /// Not stored, for this reason.
    No(&'static str),
}

/// Whether `route` stores a response with this status and these headers, and for how long.
pub(crate) fn response_is_storable(
    route: &Route,
    status: StatusCode,
    headers: &HeaderMap,
) -> Storable {
    if !route.statuses.contains(&status) {
        return Storable::No("status not cached by the route");
    }
    if headers.contains_key(header::SET_COOKIE) {
        return Storable::No("Set-Cookie");
    }
    if !varies_within_key(route, headers) {
        return Storable::No("Vary names a header outside the key");
    }
    let mut shared_max_age = None;
    let mut max_age = None;
    let directives = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for directive in directives {
        let (name, argument) = match directive.split_once('=') {
            Some((name, argument)) => (name.trim(), Some(argument.trim().trim_matches('"'))),
            None => (directive.trim(), None),
        };
        let seconds = || argument.and_then(|a| a.parse::<u64>().ok());
        match name.to_ascii_lowercase().as_str() {
            "no-store" => return Storable::No("Cache-Control: no-store"),
            "private" => return Storable::No("Cache-Control: private"),
            "no-cache" => return Storable::No("Cache-Control: no-cache"),
            "s-maxage" => shared_max_age = seconds(),
            "max-age" => max_age = seconds(),
            _ => {}
        }
    }
    match shared_max_age.or(max_age) {
        Some(0) => Storable::No("max-age=0"),
        Some(seconds) => Storable::Yes(Some(Duration::from_secs(seconds).min(route.max_ttl))),
        None => Storable::Yes(None),
    }
}

/// Whether every header the response's `Vary` names is part of the key (`*` never is).
fn varies_within_key(route: &Route, headers: &HeaderMap) -> bool {
    headers
        .get_all(header::VARY)
        .iter()
        .flat_map(|value| value.to_str().map_or(vec!["*"], |v| v.split(',').collect()))
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .all(|name| {
            route
                .headers
                .iter()
                .any(|keyed| keyed.as_str().eq_ignore_ascii_case(name))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn cache_control_decides_what_is_stored_and_for_how_long() {
        let route = Route::new("/").max_ttl(Duration::from_secs(600));
        let storable = |pairs: &[(header::HeaderName, &'static str)]| {
            response_is_storable(&route, StatusCode::OK, &headers(pairs))
        };
        assert_eq!(storable(&[]), Storable::Yes(None));
        let cc = header::CACHE_CONTROL;
        assert_eq!(
            storable(&[(cc.clone(), "public, max-age=30")]),
            Storable::Yes(Some(Duration::from_secs(30)))
        );
        assert_eq!(
            storable(&[(cc.clone(), "max-age=30, s-maxage=90")]),
            Storable::Yes(Some(Duration::from_secs(90)))
        );
        assert_eq!(
            storable(&[(cc.clone(), "max-age=86400")]),
            Storable::Yes(Some(Duration::from_secs(600)))
        );
        assert!(matches!(
            storable(&[(cc.clone(), "max-age=0")]),
            Storable::No(_)
        ));
        assert!(matches!(
            storable(&[(cc.clone(), "No-Store")]),
            Storable::No(_)
        ));
        assert!(matches!(
            storable(&[(cc.clone(), "private, max-age=60")]),
            Storable::No(_)
        ));
        assert!(matches!(
            storable(&[(header::SET_COOKIE, "a=b")]),
            Storable::No(_)
        ));
        assert!(matches!(storable(&[(header::VARY, "*")]), Storable::No(_)));
        assert!(matches!(
            storable(&[(header::VARY, "accept-language")]),
            Storable::No(_)
        ));
        assert!(matches!(
            response_is_storable(&route, StatusCode::NOT_FOUND, &HeaderMap::new()),
            Storable::No(_)
        ));
    }

    #[test]
    fn vary_within_the_key_is_stored() {
        let route = Route::new("/").vary(["Accept-Language"]);
        let vary = headers(&[(header::VARY, "accept-language")]);
        assert_eq!(
            response_is_storable(&route, StatusCode::OK, &vary),
            Storable::Yes(None)
        );
    }

    #[test]
    fn authorization_and_methods_other_than_get_and_head_pass_through() {
        let route = Route::new("/");
        let auth = headers(&[(header::AUTHORIZATION, "Bearer x")]);
        assert!(request_is_cacheable(
            &route,
            &Method::GET,
            &HeaderMap::new()
        ));
        assert!(request_is_cacheable(
            &route,
            &Method::HEAD,
            &HeaderMap::new()
        ));
        assert!(!request_is_cacheable(
            &route,
            &Method::POST,
            &HeaderMap::new()
        ));
        assert!(!request_is_cacheable(&route, &Method::GET, &auth));
        assert!(request_is_cacheable(
            &route.allow_authorization(),
            &Method::GET,
            &auth
        ));
    }
}
