//! `redis-server` processes of a benchmark's own, on free loopback ports: one server, or the
//! three masters of a Redis Cluster (`redis-cli --cluster create`), killed when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// `redis-server` processes of our own (one, or a cluster's three masters), killed when
/// dropped.
pub struct Servers {
    children: Vec<Child>,
    ports: Vec<u16>,
    dir: PathBuf,
}

impl Servers {
    pub fn start(count: usize, cluster: bool, dir: &Path) -> Option<Servers> {
        let ports: Vec<u16> = (0..count).map(|_| free_port()).collect();
        let mut children = Vec::new();
        for port in &ports {
            let mut command = Command::new("redis-server");
            command
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(dir);
            if cluster {
                command
                    .args(["--cluster-enabled", "yes"])
                    .args(["--cluster-config-file", &format!("nodes-{port}.conf")]);
            }
            children.push(
                command
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .ok()?,
            );
        }
        let servers = Servers {
            children,
            ports,
            dir: dir.to_path_buf(),
        };
        for port in &servers.ports {
            let deadline = Instant::now() + Duration::from_secs(10);
            while std::net::TcpStream::connect(("127.0.0.1", *port)).is_err() {
                assert!(Instant::now() < deadline, "redis-server did not start");
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        if cluster {
            servers.create_cluster();
        }
        Some(servers)
    }

    fn create_cluster(&self) {
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for port in &self.ports {
            create.arg(format!("127.0.0.1:{port}"));
        }
        let status = create
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "redis-cli --cluster create");
        let deadline = Instant::now() + Duration::from_secs(20);
        for url in self.urls() {
            loop {
                let info: Option<String> = redis::Client::open(url.as_str())
                    .and_then(|c| c.get_connection())
                    .and_then(|mut c| redis::cmd("CLUSTER").arg("INFO").query(&mut c))
                    .ok();
                if info.is_some_and(|i| i.contains("cluster_state:ok")) {
                    break;
                }
                assert!(Instant::now() < deadline, "the cluster never became ready");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    pub fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}/"))
            .collect()
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Servers {
    /// Calls per command so far (`INFO commandstats`), summed over the nodes.
    pub fn commands(&self) -> std::collections::HashMap<String, u64> {
        self.command_stats("calls=")
            .into_iter()
            .map(|(name, calls)| (name, calls as u64))
            .collect()
    }

    /// Per command, `field` (`calls=`, `usec_per_call=`) of `INFO commandstats`, summed over the
    /// nodes.
    pub fn command_stats(&self, field: &str) -> std::collections::HashMap<String, f64> {
        let mut stats = std::collections::HashMap::new();
        for url in self.urls() {
            let mut direct = redis::Client::open(url.as_str())
                .and_then(|c| c.get_connection())
                .unwrap();
            let info: String = redis::cmd("INFO")
                .arg("commandstats")
                .query(&mut direct)
                .unwrap();
            for line in info.lines() {
                let Some((name, fields)) = line
                    .strip_prefix("cmdstat_")
                    .and_then(|l| l.split_once(':'))
                else {
                    continue;
                };
                if let Some(value) = fields
                    .split(',')
                    .find_map(|f| f.strip_prefix(field))
                    .and_then(|v| v.parse::<f64>().ok())
                {
                    *stats.entry(name.to_owned()).or_insert(0.0) += value;
                }
            }
        }
        stats
    }
}
