//! `examples/two_instances.rs` runs again and again against one Redis (issue 11): each run has
//! a namespace of its own, so its "cold" call is never a hit left by an earlier run. The run
//! checks where each of its answers came from and fails otherwise.

use crate::support::RedisServer;

#[path = "../../examples/two_instances.rs"]
#[allow(dead_code)] // its `main` and the server it starts without a URL
mod example;

#[tokio::test]
async fn the_two_instances_example_runs_twice_in_a_row_against_one_redis() {
    let server = RedisServer::start_single(); // the example takes one URL
    example::run(&server.url()).await.expect("the first run");
    example::run(&server.url())
        .await
        .expect("the second run, same Redis");
}
