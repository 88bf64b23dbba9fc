//! What a cached response is keyed by: method, path, the route's chosen query parameters and
//! request headers. Owned, because the request itself moves into the computation.

use http::HeaderMap;
use http::header::HeaderName;
use serde::Serialize;

/// The key of one request in its route's keyspace (which already names the route).
#[derive(Debug, Serialize)]
pub(crate) struct RequestKey {
    method: &'static str,
    path: String,
    /// The values of each chosen query parameter, in the route's order (none: absent).
    query: Vec<Vec<String>>,
    /// The value of each chosen header, in the route's order.
    headers: Vec<Option<Vec<u8>>>,
}

impl RequestKey {
    pub(crate) fn new(
        head: bool,
        path: &str,
        query: Option<&str>,
        query_names: &[String],
        headers: &HeaderMap,
        header_names: &[HeaderName],
    ) -> RequestKey {
        RequestKey {
            method: if head { "HEAD" } else { "GET" },
            path: path.to_owned(),
            query: query_names
                .iter()
                .map(|name| query_values(query.unwrap_or_default(), name))
                .collect(),
            headers: header_names
                .iter()
                .map(|name| {
                    let values: Vec<&[u8]> =
                        headers.get_all(name).iter().map(|v| v.as_bytes()).collect();
                    (!values.is_empty()).then(|| values.join(&b'\n'))
                })
                .collect(),
        }
    }
}

/// The values of parameter `name` in a query string, raw (as sent: `a%20b` and `a+b` are two
/// keys for the same value, which costs a miss, never a wrong answer).
fn query_values(query: &str, name: &str) -> Vec<String> {
    query
        .split('&')
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then(|| value.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_chosen_query_parameters_are_kept_in_order() {
        assert_eq!(query_values("a=1&b=2&a=3", "a"), ["1", "3"]);
        assert_eq!(query_values("flag&b=2", "flag"), [""]);
        assert!(query_values("", "a").is_empty());
    }
}
