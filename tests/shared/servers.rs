//! `redis-server` processes of a test's (or a benchmark's) own, on free loopback ports, stopped
//! when dropped: one server, or the three masters of a Redis Cluster
//! (`CACHED_QUERY_TEST_TOPOLOGY=cluster` picks the cluster for [`RedisServer::start`]).
//! `benches/support` includes this file too.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `redis-server` can be started here (a benchmark skips without it).
#[allow(dead_code)] // the benchmarks' check: the tests require redis-server
pub fn available() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Whether this run's Redis is a cluster (`CACHED_QUERY_TEST_TOPOLOGY=cluster`).
pub fn on_cluster() -> bool {
    std::env::var("CACHED_QUERY_TEST_TOPOLOGY").is_ok_and(|t| t == "cluster")
}

/// One `redis-server` process.
struct Node {
    port: u16,
    child: Option<Child>,
}

/// The process id of the redis-server answering on `port` (`INFO server`).
fn server_pid(port: u16) -> Option<u32> {
    let mut connection = redis::Client::open(node_url(port))
        .and_then(|client| client.get_connection_with_timeout(Duration::from_secs(2)))
        .ok()?;
    connection
        .set_read_timeout(Some(Duration::from_secs(2)))
        .ok()?;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query(&mut connection)
        .ok()?;
    info.lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The Redis a test runs against: one server, or the three masters of a cluster.
pub struct RedisServer {
    pub port: u16,
    nodes: Vec<Node>,
    /// A cluster's directory (its nodes' `nodes.conf`), removed when dropped.
    cluster_dir: Option<PathBuf>,
}

impl RedisServer {
    /// The run's topology (see [`on_cluster`]).
    pub fn start() -> RedisServer {
        if on_cluster() {
            Self::start_cluster()
        } else {
            Self::start_single()
        }
    }

    pub fn start_single() -> RedisServer {
        let port = free_port();
        let mut server = RedisServer {
            port,
            nodes: vec![Node { port, child: None }],
            cluster_dir: None,
        };
        server.spawn_all();
        server
    }

    /// Three masters (`--cluster-enabled yes`), joined by `redis-cli --cluster create`.
    /// `cluster-require-full-coverage no`: with a master down, the others keep serving their
    /// slots.
    pub fn start_cluster() -> RedisServer {
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let dir = std::env::temp_dir().join(format!(
            "cached-query-cluster-{}-{}",
            std::process::id(),
            ports[0]
        ));
        std::fs::create_dir_all(&dir).expect("a directory for the cluster's nodes.conf");
        let mut server = RedisServer {
            port: ports[0],
            nodes: ports
                .iter()
                .map(|&port| Node { port, child: None })
                .collect(),
            cluster_dir: Some(dir),
        };
        server.spawn_all();
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for node in &server.nodes {
            create.arg(format!("127.0.0.1:{}", node.port));
        }
        let mut creating = create
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-cli on PATH: run `bash scripts/test.sh`, which installs it");
        // Bounded: a node that is not ours (see `spawn_node`) would keep it waiting forever.
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = creating.try_wait().expect("redis-cli's status") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = creating.kill();
                let _ = creating.wait();
                panic!("redis-cli --cluster create did not finish within 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "redis-cli --cluster create failed");
        server.wait_cluster_ok();
        server
    }

    /// Whether this is a cluster's masters (else one server).
    pub fn is_cluster(&self) -> bool {
        self.cluster_dir.is_some()
    }

    /// Starts every node, each on a port of its own: a port another process took between
    /// `free_port` and the start (tests start servers in parallel) is replaced by a new one.
    fn spawn_all(&mut self) {
        for i in 0..self.nodes.len() {
            let mut attempts = 0;
            while !self.spawn_node(i) {
                attempts += 1;
                assert!(attempts < 10, "no free port for a redis-server");
                let port = free_port();
                self.nodes[i].port = port;
                if i == 0 {
                    self.port = port;
                }
            }
        }
    }

    /// Starts node `i` again on its own port (a restart keeps the node's address).
    fn respawn_node(&mut self, i: usize) {
        assert!(
            self.spawn_node(i),
            "port {} was taken while its node was down",
            self.nodes[i].port
        );
    }

    /// Starts node `i` on its port: whether the server answering there is the one started
    /// (`false`: it exited, or another process's server answers on that port).
    fn spawn_node(&mut self, i: usize) -> bool {
        let port = self.nodes[i].port;
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"]);
        if let Some(dir) = &self.cluster_dir {
            command
                .args(["--cluster-enabled", "yes"])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                .args(["--cluster-node-timeout", "1000"])
                .args(["--cluster-require-full-coverage", "no"])
                .arg("--dir")
                .arg(dir);
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH: run `bash scripts/test.sh`, which installs it");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if child.try_wait().ok().flatten().is_some() {
                return false; // it exited: the port was taken
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(5));
        }
        let ours = server_pid(port) == Some(child.id());
        if ours {
            self.nodes[i].child = Some(child);
        } else {
            let _ = child.kill();
            let _ = child.wait();
        }
        ours
    }

    /// Waits until every node reports `cluster_state:ok` (no-op for one server).
    fn wait_cluster_ok(&self) {
        if !self.is_cluster() {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        for node in &self.nodes {
            loop {
                let info: Option<String> = redis::Client::open(node_url(node.port))
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

    /// The first node's URL (a seed, for a cluster).
    pub fn url(&self) -> String {
        node_url(self.port)
    }

    /// Every node's URL (one, or a cluster's seeds).
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(|n| node_url(n.port)).collect()
    }

    /// Kills every node (as a crash would).
    pub fn kill(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill_node(i);
        }
    }

    /// Kills one node (one master of a cluster).
    pub fn kill_node(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a killed node again on its port, empty (a cluster node keeps its slots: its
    /// `nodes.conf` survives).
    pub fn restart_node(&mut self, i: usize) {
        self.kill_node(i);
        self.respawn_node(i);
        self.wait_cluster_ok();
    }

    /// Starts a killed node again on its port, empty, and freezes it at once: connections to it
    /// are accepted (by the kernel), nothing on them is answered until [`Self::thaw_node`].
    pub fn restart_node_frozen(&mut self, i: usize) {
        self.kill_node(i);
        self.respawn_node(i);
        self.signal_node(i, "-STOP");
    }

    /// Lets a frozen node answer again, and waits for the cluster to be whole.
    pub fn thaw_node(&self, i: usize) {
        self.signal_node(i, "-CONT");
        self.wait_cluster_ok();
    }

    /// Starts every node again on the same ports, empty.
    pub fn restart(&mut self) {
        self.kill();
        for i in 0..self.nodes.len() {
            self.respawn_node(i);
        }
        self.wait_cluster_ok();
    }

    /// Freezes every node: connections stay open, nothing answers.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        for i in 0..self.nodes.len() {
            self.signal_node(i, signal);
        }
    }

    fn signal_node(&self, i: usize, signal: &str) {
        let pid = self.nodes[i]
            .child
            .as_ref()
            .expect("running")
            .id()
            .to_string();
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// The ids of node `i`'s clients that hold a sharded subscription (their `ssub` count in
    /// `CLIENT LIST`: RESP3 subscribers are listed as `normal` clients).
    pub fn sharded_subscribers(&self, i: usize) -> Vec<String> {
        let mut direct = self.node_client(i);
        let clients: String = redis::cmd("CLIENT").arg("LIST").query(&mut direct).unwrap();
        clients
            .lines()
            .filter_map(|client| {
                let field = |name: &str| {
                    client
                        .split(' ')
                        .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
                };
                let subscribed = field("ssub").is_some_and(|count| count != "0");
                subscribed.then(|| field("id").unwrap_or("0").to_owned())
            })
            .collect()
    }

    /// A plain client connection, for poking at the stored data (a cluster connection, which
    /// routes each command to its key's node and `KEYS`/`FLUSHALL` to every master).
    pub fn client(&self) -> Direct {
        if self.is_cluster() {
            let nodes: Vec<String> = self.nodes.iter().map(|n| node_url(n.port)).collect();
            Direct(Box::new(
                redis::cluster::ClusterClient::new(nodes)
                    .and_then(|c| c.get_connection())
                    .expect("a direct cluster connection"),
            ))
        } else {
            Direct(Box::new(self.node_client(0)))
        }
    }

    /// A connection to node `i` alone.
    pub fn node_client(&self, i: usize) -> redis::Connection {
        redis::Client::open(node_url(self.nodes[i].port))
            .and_then(|c| c.get_connection())
            .expect("a direct connection")
    }

    /// Moves the slot of `key` (held by node `from`) and every key in it to node `to`, as a
    /// resharding would: importing and migrating states, `MIGRATE`, then the slot given to
    /// `to` on every node.
    pub fn move_slot_of(&self, key: &str, from: usize, to: usize) {
        let id = |i: usize| -> String {
            redis::cmd("CLUSTER")
                .arg("MYID")
                .query(&mut self.node_client(i))
                .expect("a node id")
        };
        let (source, target) = (id(from), id(to));
        let mut source_node = self.node_client(from);
        let slot: u16 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query(&mut source_node)
            .expect("the key's slot");
        let set = |i: usize, state: &str, node: &str| {
            let _: () = redis::cmd("CLUSTER")
                .arg("SETSLOT")
                .arg(slot)
                .arg(state)
                .arg(node)
                .query(&mut self.node_client(i))
                .expect("CLUSTER SETSLOT");
        };
        set(to, "IMPORTING", &source);
        set(from, "MIGRATING", &target);
        let keys: Vec<String> = redis::cmd("CLUSTER")
            .arg("GETKEYSINSLOT")
            .arg(slot)
            .arg(1000)
            .query(&mut source_node)
            .expect("the slot's keys");
        let _: redis::Value = redis::cmd("MIGRATE")
            .arg("127.0.0.1")
            .arg(self.nodes[to].port)
            .arg("")
            .arg(0)
            .arg(5000)
            .arg("KEYS")
            .arg(&keys)
            .query(&mut source_node)
            .expect("MIGRATE");
        for i in 0..self.node_count() {
            set(i, "NODE", &target);
        }
    }

    /// How many nodes there are (1, or a cluster's 3).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// How many times the nodes ran each command so far (`INFO commandstats`, summed).
    pub fn command_calls(&self) -> std::collections::HashMap<String, u64> {
        self.command_stats("calls=")
            .into_iter()
            .map(|(name, calls)| (name, calls as u64))
            .collect()
    }

    /// Per command, `field` (`calls=`, `usec=`, `usec_per_call=`) of `INFO commandstats`,
    /// summed over the nodes.
    pub fn command_stats(&self, field: &str) -> std::collections::HashMap<String, f64> {
        let mut stats = std::collections::HashMap::new();
        for i in 0..self.nodes.len() {
            let info: String = redis::cmd("INFO")
                .arg("commandstats")
                .query(&mut self.node_client(i))
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

/// A direct connection to one server or to a cluster.
pub struct Direct(Box<dyn redis::ConnectionLike + Send>);

impl redis::ConnectionLike for Direct {
    fn req_packed_command(&mut self, cmd: &[u8]) -> redis::RedisResult<redis::Value> {
        self.0.req_packed_command(cmd)
    }

    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> redis::RedisResult<Vec<redis::Value>> {
        self.0.req_packed_commands(cmd, offset, count)
    }

    fn req_command(&mut self, cmd: &redis::Cmd) -> redis::RedisResult<redis::Value> {
        self.0.req_command(cmd)
    }

    fn get_db(&self) -> i64 {
        self.0.get_db()
    }

    fn supports_pipelining(&self) -> bool {
        self.0.supports_pipelining()
    }

    fn check_connection(&mut self) -> bool {
        self.0.check_connection()
    }

    fn is_open(&self) -> bool {
        self.0.is_open()
    }
}

fn node_url(port: u16) -> String {
    format!("redis://127.0.0.1:{port}/")
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        for node in &self.nodes {
            if let Some(child) = &node.child {
                let _ = Command::new("kill")
                    .args(["-CONT", &child.id().to_string()])
                    .status();
            }
        }
        self.kill();
        if let Some(dir) = &self.cluster_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[test]
fn a_port_another_process_answers_on_is_replaced() {
    // Another server already listens where the node is to start: its redis-server exits (the
    // port is taken) or the answer is not from it, and the node moves to a new port.
    let squatter = TcpListener::bind("127.0.0.1:0").expect("a port to squat");
    let taken = squatter.local_addr().expect("its address").port();
    let mut server = RedisServer {
        port: taken,
        nodes: vec![Node {
            port: taken,
            child: None,
        }],
        cluster_dir: None,
    };
    server.spawn_all();
    assert_ne!(server.port, taken);
    assert_eq!(
        server_pid(server.port),
        server.nodes[0].child.as_ref().map(std::process::Child::id)
    );
}
