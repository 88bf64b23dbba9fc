//! A cluster hit's `GET` sent straight to the master that holds its key, on a connection of
//! the calling runtime, instead of through redis-rs's cluster connection (whose driver task
//! routes each request and hands it to the node's connection: about 10,000 instructions a
//! request, more than the rest of a Redis hit, measured with callgrind on 16 callers).
//!
//! Learned once per runtime connection with `CLUSTER SLOTS` (masters only). A route is a
//! guess the cluster checks: a node that no longer holds the slot answers `MOVED` or `ASK`,
//! never another key's value. Then, and when a node cannot be reached, the read goes through
//! the cluster connection as before and the routes are marked stale: the runtime's connection
//! is made again (routes learned again) on its next read. A node that does not answer within
//! the budget spends it: the read fails as any read that times out.

use super::Counters;
use crate::clock::coarse_now_nanos;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, RedisResult, Value};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// Slots in a Redis Cluster.
const SLOTS: usize = 16_384;
/// A slot no master was listed for.
const UNROUTED: u8 = u8::MAX;

/// Where each slot's master is, and a connection to each.
pub(super) struct NodeRoutes {
    /// Per slot, the index of its master in `nodes` ([`UNROUTED`] if none).
    slots: Box<[u8]>,
    nodes: Vec<MultiplexedConnection>,
    /// A route turned out wrong, or a node unreachable: learn them again.
    stale: AtomicBool,
    /// For routes that could not be learned (none): when to try again, on the coarse clock.
    retry_at_nanos: Option<u64>,
    /// Where the reads answered here are counted (`SharedStats::node_reads`).
    counters: Arc<Counters>,
}

/// A direct read's outcome.
pub(super) enum Direct {
    Answered(RedisResult<Value>),
    /// Not sent, or the node did not hold the key: read through the cluster connection.
    Rerouted,
}

impl NodeRoutes {
    /// The routes `slots_reply` (a `CLUSTER SLOTS` reply) describes, connected to each master
    /// as `seed` is (its credentials, with the master's address); `None` if the reply is not
    /// understood, a master is not named by a host and port, or one cannot be reached.
    pub(super) async fn connect(
        slots_reply: &Value,
        seed: &ConnectionInfo,
        config: &AsyncConnectionConfig,
        counters: Arc<Counters>,
    ) -> Option<NodeRoutes> {
        let (slots, masters) = slot_masters(slots_reply)?;
        let mut nodes = Vec::with_capacity(masters.len());
        for (host, port) in masters {
            let info = seed.clone().set_addr(ConnectionAddr::Tcp(host, port));
            let client = redis::Client::open(info).ok()?;
            let node = client
                .get_multiplexed_async_connection_with_config(config)
                .await
                .ok()?;
            nodes.push(node);
        }
        Some(NodeRoutes {
            slots,
            nodes,
            stale: AtomicBool::new(false),
            retry_at_nanos: None,
            counters,
        })
    }

    /// No routes (they could not be learned: a master unreachable, an address not given):
    /// every read goes through the cluster connection until they are learned again, after
    /// `retry_after`.
    pub(super) fn none_until(retry_after: Duration, counters: Arc<Counters>) -> NodeRoutes {
        let retry_after = u64::try_from(retry_after.as_nanos()).unwrap_or(u64::MAX);
        NodeRoutes {
            slots: Box::default(),
            nodes: Vec::new(),
            stale: AtomicBool::new(false),
            retry_at_nanos: Some(coarse_now_nanos().saturating_add(retry_after)),
            counters,
        }
    }

    /// Whether they should be learned again.
    pub(super) fn is_stale(&self) -> bool {
        self.stale.load(Relaxed)
            || self
                .retry_at_nanos
                .is_some_and(|retry_at| coarse_now_nanos() >= retry_at)
    }

    /// Sends `get` (a `GET` of one key) to the master of its key's slot.
    pub(super) async fn get(&self, get: &redis::Cmd) -> Direct {
        let Some(node) = self.node_of(get) else {
            return Direct::Rerouted;
        };
        let mut node = node.clone();
        // An error reply comes as a value: made an error, as a query would.
        let reply = (node.req_packed_command(get).await).and_then(Value::extract_error);
        match reply {
            Ok(value) => {
                self.counters.node_reads.fetch_add(1, Relaxed);
                Direct::Answered(Ok(value))
            }
            Err(e) if e.code() == Some("WRONGTYPE") => Direct::Answered(Ok(Value::Nil)),
            Err(e) if e.is_timeout() => {
                self.stale.store(true, Relaxed);
                Direct::Answered(Err(e))
            }
            // `MOVED`, `ASK`, `TRYAGAIN`, a node gone: the cluster connection knows better.
            Err(_) => {
                self.stale.store(true, Relaxed);
                Direct::Rerouted
            }
        }
    }

    fn node_of(&self, get: &redis::Cmd) -> Option<&MultiplexedConnection> {
        let redis::Arg::Simple(key) = get.args_iter().nth(1)? else {
            return None;
        };
        let node = *self.slots.get(usize::from(slot_of(key)))?;
        self.nodes.get(usize::from(node))
    }
}

/// The slot of `key`: CRC16 (XMODEM) of its hash tag (the part between its first `{` and the
/// first `}` after it, when not empty), else of the whole key, modulo 16,384 (the Redis Cluster
/// specification's key distribution).
fn slot_of(key: &[u8]) -> u16 {
    crc16(hash_tag(key).unwrap_or(key)) % SLOTS as u16
}

fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = key.iter().position(|b| *b == b'{')?;
    let after = key.get(open + 1..)?;
    let close = after.iter().position(|b| *b == b'}')?;
    after.get(..close).filter(|tag| !tag.is_empty())
}

/// CRC16-CCITT (XMODEM): polynomial 0x1021, initial 0, no reflection.
fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |crc, byte| {
        let mut crc = crc ^ (u16::from(*byte) << 8);
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// A master's host and port.
type Address = (String, u16);

/// From a `CLUSTER SLOTS` reply: each slot's master index, and the masters' hosts and ports.
fn slot_masters(reply: &Value) -> Option<(Box<[u8]>, Vec<Address>)> {
    let Value::Array(ranges) = reply else {
        return None;
    };
    let mut slots = vec![UNROUTED; SLOTS].into_boxed_slice();
    let mut masters: Vec<Address> = Vec::new();
    for range in ranges {
        let Value::Array(fields) = range else {
            return None;
        };
        let (start, end, master) = match fields.as_slice() {
            [Value::Int(start), Value::Int(end), Value::Array(master), ..] => (start, end, master),
            _ => return None,
        };
        let (host, port) = match master.as_slice() {
            [Value::BulkString(host), Value::Int(port), ..] => (host, port),
            _ => return None,
        };
        let host = String::from_utf8(host.clone())
            .ok()
            .filter(|h| !h.is_empty() && h != "?")?;
        let address = (host, u16::try_from(*port).ok()?);
        let index = match masters.iter().position(|known| *known == address) {
            Some(index) => index,
            None => {
                masters.push(address);
                masters.len() - 1
            }
        };
        let index = u8::try_from(index).ok().filter(|i| *i != UNROUTED)?;
        let (start, end) = (usize::try_from(*start).ok()?, usize::try_from(*end).ok()?);
        slots.get_mut(start..=end)?.fill(index);
    }
    Some((slots, masters))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_the_cluster_specifications() {
        assert_eq!(crc16(b"123456789"), 0x31c3, "XMODEM's check value");
        assert_eq!(slot_of(b"foo"), 12_182);
        assert_eq!(slot_of(b"bar"), 5_061);
        assert_eq!(
            slot_of(b"{user1000}.following"),
            slot_of(b"{user1000}.followers")
        );
        assert_eq!(slot_of(b"{user1000}.following"), slot_of(b"user1000"));
        assert_eq!(
            slot_of(b"foo{}{bar}"),
            crc16(b"foo{}{bar}") % 16_384,
            "empty tag"
        );
        assert_eq!(slot_of(b"foo{{bar}}zap"), slot_of(b"{bar"));
        assert_eq!(slot_of(b"foo{bar}{zap}"), slot_of(b"bar"));
        assert_eq!(
            slot_of(b"no{close"),
            slot_of(b"no{close"),
            "no tag: the whole key"
        );
    }

    fn master(host: &str, port: i64) -> Value {
        Value::Array(vec![
            Value::BulkString(host.as_bytes().to_vec()),
            Value::Int(port),
            Value::BulkString(b"id".to_vec()),
        ])
    }

    fn range(start: i64, end: i64, master: Value) -> Value {
        Value::Array(vec![Value::Int(start), Value::Int(end), master])
    }

    #[test]
    fn a_cluster_slots_reply_routes_each_slot_to_its_master() {
        let reply = Value::Array(vec![
            range(0, 5460, master("10.0.0.1", 7001)),
            range(5461, 10922, master("10.0.0.2", 7002)),
            range(10923, 16383, master("10.0.0.1", 7001)),
        ]);
        let (slots, masters) = slot_masters(&reply).unwrap();
        assert_eq!(
            masters,
            [
                ("10.0.0.1".to_string(), 7001),
                ("10.0.0.2".to_string(), 7002)
            ]
        );
        assert_eq!((slots[0], slots[5460], slots[5461]), (0, 0, 1));
        assert_eq!((slots[10922], slots[10923], slots[16383]), (1, 0, 0));
        let partial = Value::Array(vec![range(0, 99, master("h", 1))]);
        assert_eq!(slot_masters(&partial).unwrap().0[100], UNROUTED);
    }

    #[test]
    fn a_reply_it_does_not_understand_routes_nothing() {
        for reply in [
            Value::Nil,
            Value::Array(vec![Value::Int(3)]),
            Value::Array(vec![range(0, 16384, master("h", 1))]),
            Value::Array(vec![range(0, 9, master("", 1))]),
            Value::Array(vec![range(0, 9, master("?", 1))]),
            Value::Array(vec![range(0, 9, master("h", 70_000))]),
            Value::Array(vec![range(9, 0, master("h", 1))]),
        ] {
            assert!(slot_masters(&reply).is_none(), "{reply:?}");
        }
    }
}
