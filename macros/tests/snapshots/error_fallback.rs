::core::compile_error! {
    "invalid duration \"5w\" (unknown unit `w`): expected integer seconds (`ttl = 60`) or a duration string such as \"150ms\", \"30s\", \"5m\", \"1h30m\", \"2h\" or \"1d\" (units `ms`, `s`, `m`, `h`, `d`; components written together without spaces), or \"forever\" for a TTL"
}
::core::compile_error! {
    "the `async` keyword is missing from the function declaration: `#[cached_query]` only memoizes `async fn`s (if `#[async_trait]` rewrote this method first, use a native `async fn` in the trait instead)"
}
fn not_async(id: u64) -> u64 {
    id
}
