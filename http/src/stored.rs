//! The stored response: status, headers, body and strong ETag, serializable so that it goes
//! through the shared tier like any cached value; and the responses built from it (the full
//! one, or a `304`).

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A response as the cache keeps it. Cloning it (on every hit) clones a reference count.
#[derive(Clone, Debug)]
pub(crate) struct StoredResponse {
    pub(crate) parts: Arc<Parts>,
    /// The rules refused to store it (never serialized: only stored responses are).
    pub(crate) uncacheable: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Parts {
    pub(crate) status: u16,
    /// Header names and values, end-to-end headers only, the ETag included.
    pub(crate) headers: Vec<(String, Bytes)>,
    pub(crate) body: Bytes,
    /// The ETag as sent (quoted): ours, the body's xxh3-128, unless the handler set one.
    pub(crate) etag: String,
    /// When it was computed, in milliseconds since the Unix epoch (the wall clock, shared by
    /// every instance that reads it from the shared tier): what `Age` counts from.
    pub(crate) stored_at_ms: u64,
    /// The TTL the response's own `Cache-Control` asked for, when it did.
    pub(crate) ttl_ms: Option<u64>,
    /// `headers` as a header map, built by the first hit that needs it and cloned by the
    /// others (never serialized: each instance builds its own).
    #[serde(skip)]
    prepared: OnceLock<HeaderMap>,
}

impl Serialize for StoredResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.parts.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for StoredResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(StoredResponse {
            parts: Arc::new(Parts::deserialize(deserializer)?),
            uncacheable: false,
        })
    }
}

/// Headers that describe the connection, not the response: never stored.
const HOP_BY_HOP: [HeaderName; 5] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::CONTENT_LENGTH,
    header::TE,
    header::UPGRADE,
];

/// Headers a `304` carries (RFC 9110 §15.4.5), besides `Age`.
const NOT_MODIFIED_HEADERS: [HeaderName; 6] = [
    header::CACHE_CONTROL,
    header::CONTENT_LOCATION,
    header::DATE,
    header::ETAG,
    header::EXPIRES,
    header::VARY,
];

/// The strong ETag of a body: its xxh3-128, quoted.
pub(crate) fn etag_of(body: &[u8]) -> String {
    format!("\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(body))
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

impl StoredResponse {
    /// A response just computed: its end-to-end headers, its body, an ETag.
    pub(crate) fn new(status: StatusCode, headers: &HeaderMap, body: Bytes) -> StoredResponse {
        let etag = match headers.get(header::ETAG).map(HeaderValue::to_str) {
            Some(Ok(etag)) => etag.to_owned(),
            _ => etag_of(&body),
        };
        let mut kept: Vec<(String, Bytes)> = headers
            .iter()
            .filter(|(name, _)| !HOP_BY_HOP.contains(name) && **name != header::ETAG)
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    Bytes::copy_from_slice(value.as_bytes()),
                )
            })
            .collect();
        kept.push((
            header::ETAG.as_str().to_owned(),
            Bytes::copy_from_slice(etag.as_bytes()),
        ));
        StoredResponse {
            parts: Arc::new(Parts {
                status: status.as_u16(),
                headers: kept,
                body,
                etag,
                stored_at_ms: now_ms(),
                ttl_ms: None,
                prepared: OnceLock::new(),
            }),
            uncacheable: false,
        }
    }

    /// A stand-in for a request that failed (the handler's error, an unreadable body): never
    /// stored, never sent.
    pub(crate) fn failed() -> StoredResponse {
        let mut failed = StoredResponse::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            &HeaderMap::new(),
            Bytes::new(),
        );
        failed.uncacheable = true;
        failed
    }

    /// The TTL the rules store it for, when its own `Cache-Control` gave one.
    pub(crate) fn own_ttl(&self) -> Option<Duration> {
        self.parts.ttl_ms.map(Duration::from_millis)
    }

    pub(crate) fn etag(&self) -> &str {
        &self.parts.etag
    }

    fn age(&self) -> HeaderValue {
        let age_secs = now_ms().saturating_sub(self.parts.stored_at_ms) / 1_000;
        HeaderValue::from(age_secs)
    }

    /// Its headers as a header map, built once per stored response.
    fn all_headers(&self) -> HeaderMap {
        self.parts
            .prepared
            .get_or_init(|| self.headers(|_| true))
            .clone()
    }

    /// Its headers that pass `keep`, as a header map.
    fn headers(&self, keep: impl Fn(&HeaderName) -> bool) -> HeaderMap {
        let mut map = HeaderMap::with_capacity(self.parts.headers.len() + 2);
        for (name, value) in &self.parts.headers {
            // Headers were valid when stored; a foreign value that is not is left out.
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_maybe_shared(value.clone()),
            ) else {
                continue;
            };
            if keep(&name) {
                map.append(name, value);
            }
        }
        map
    }

    /// The full response (no body for `HEAD`), with `Age`, and `Cache-Control` when it has
    /// none of its own (`client_cache_control`). An uncacheable one goes out as it came.
    pub(crate) fn to_response(
        &self,
        head: bool,
        client_cache_control: &HeaderValue,
    ) -> Response<Full<Bytes>> {
        let body = if head {
            Bytes::new()
        } else {
            self.parts.body.clone()
        };
        let mut response = Response::new(Full::new(body));
        *response.status_mut() =
            StatusCode::from_u16(self.parts.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut headers = self.all_headers();
        if !self.uncacheable {
            if !headers.contains_key(header::CACHE_CONTROL) {
                headers.insert(header::CACHE_CONTROL, client_cache_control.clone());
            }
            headers.insert(header::AGE, self.age());
        }
        *response.headers_mut() = headers;
        response
    }

    /// `304 Not Modified`: no body, the headers RFC 9110 asks for, `Age`.
    pub(crate) fn not_modified(&self, client_cache_control: &HeaderValue) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        let mut headers = self.headers(|name| NOT_MODIFIED_HEADERS.contains(name));
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, client_cache_control.clone());
        }
        headers.insert(header::AGE, self.age());
        *response.headers_mut() = headers;
        response
    }
}

/// Whether `If-None-Match` (all its values) names `etag`: `*`, or one of its entity tags by
/// the weak comparison RFC 9110 §13.1.2 prescribes for it (`W/"x"` matches `"x"`).
pub(crate) fn none_match(if_none_match: &HeaderMap, etag: &str) -> bool {
    let ours = etag.strip_prefix("W/").unwrap_or(etag);
    if_none_match
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conditional(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_star() {
        let etag = "\"abc\"";
        assert!(none_match(&conditional("\"abc\""), etag));
        assert!(none_match(&conditional("W/\"abc\""), etag));
        assert!(none_match(&conditional("\"x\", \"abc\""), etag));
        assert!(none_match(&conditional("*"), etag));
        assert!(!none_match(&conditional("\"abd\""), etag));
        assert!(!none_match(&conditional("abc"), etag));
        assert!(!none_match(&HeaderMap::new(), etag));
    }

    #[test]
    fn a_stored_response_keeps_end_to_end_headers_and_a_body_etag() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        let stored = StoredResponse::new(StatusCode::OK, &headers, Bytes::from_static(b"hello"));
        assert_eq!(stored.etag(), etag_of(b"hello"));
        assert_ne!(etag_of(b"hello"), etag_of(b"hellp"));
        let response = stored.to_response(false, &HeaderValue::from_static("no-cache"));
        let sent = response.headers();
        assert_eq!(
            sent.get(header::CONTENT_TYPE).map(HeaderValue::as_bytes),
            Some(&b"text/plain"[..])
        );
        assert!(sent.get(header::CONTENT_LENGTH).is_none());
        assert_eq!(
            sent.get(header::ETAG).and_then(|v| v.to_str().ok()),
            Some(stored.etag())
        );
        assert_eq!(
            sent.get(header::CACHE_CONTROL).map(HeaderValue::as_bytes),
            Some(&b"no-cache"[..])
        );
        assert!(sent.get(header::AGE).is_some());
        let not_modified = stored.not_modified(&HeaderValue::from_static("no-cache"));
        assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
        assert!(not_modified.headers().get(header::CONTENT_TYPE).is_none());
        assert!(not_modified.headers().get(header::ETAG).is_some());
    }
}
