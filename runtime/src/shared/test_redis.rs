//! A `redis-server` of a unit test's own, on a free loopback port, for the tests that check what
//! the Lua scripts decide. `None` (and a note on stderr) when `redis-server` is not installed:
//! `scripts/test.sh` installs it, so CI always runs them.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(super) struct TestRedis {
    child: Child,
    pub(super) connection: redis::Connection,
}

impl TestRedis {
    pub(super) fn start() -> Option<TestRedis> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .ok()?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            eprintln!("redis-server is not installed: the script test is skipped");
            return None;
        };
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).ok()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut connection) = client.get_connection()
                && redis::cmd("PING").query::<String>(&mut connection).is_ok()
            {
                return Some(TestRedis { child, connection });
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
