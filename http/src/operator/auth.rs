//! The bearer token of the invalidation endpoints, compared in constant time.

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// Whether `headers` carry `Authorization: Bearer <token>`. The comparison reads every byte of
/// the longer of the two whatever they hold, so its time does not tell how much of a guess
/// was right (it does tell the token's length, which a token's entropy does not depend on).
pub(crate) fn carries_token(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.as_bytes().strip_prefix(b"Bearer "))
    else {
        return false;
    };
    constant_time_eq(given, token.as_bytes())
}

fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = u8::from(given.len() != expected.len());
    for index in 0..given.len().max(expected.len()) {
        let a = given.get(index).copied().unwrap_or(0);
        let b = expected.get(index).copied().unwrap_or(0);
        difference |= a ^ b;
    }
    // Keep the optimizer from turning the loop back into an early exit.
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn with(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn only_the_exact_token_passes() {
        assert!(carries_token(&with("Bearer s3cret"), "s3cret"));
        assert!(!carries_token(&with("Bearer s3cre"), "s3cret"));
        assert!(!carries_token(&with("Bearer s3cret!"), "s3cret"));
        assert!(!carries_token(&with("Bearer s3creT"), "s3cret"));
        assert!(!carries_token(&with("Basic s3cret"), "s3cret"));
        assert!(!carries_token(&HeaderMap::new(), "s3cret"));
        assert!(constant_time_eq(b"", b""));
    }
}
