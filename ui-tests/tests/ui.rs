//! trybuild driver: `ui/pass/*.rs` must compile, `ui/fail/*.rs` must fail with the checked-in
//! `.stderr`. Regenerate with `TRYBUILD=overwrite cargo test -p cached-query-ui-tests`.

#[test]
#[rustversion::attr(not(stable(1.95)), ignore = "stderr generated with rustc 1.95")]
fn pass() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
}

#[test]
#[rustversion::attr(not(stable(1.95)), ignore = "stderr generated with rustc 1.95")]
fn compile_fail() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
}
