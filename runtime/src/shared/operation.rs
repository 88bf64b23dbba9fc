//! One operation against Redis: on the tier's own runtime, under the budget, behind the breaker.
//! A failure is counted here and returned as a [`TierError`]; callers treat it as a miss.

use super::Counters;
use super::SharedTier;
use super::connection::Connection;
use crate::clock::CoarseInstant;
use crate::tier::TierError;
use redis::Script;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// How the requests of a read on the caller's connection are sent, which says whether the
/// connection's response timeout (the operation budget, `connection.rs`) bounds the read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Requests {
    /// At once: one request, a pipeline, or several side by side. Each is bounded by the
    /// response timeout, so the read is.
    AtOnce,
    /// One after another (a script's `EVALSHA`, then its `EVAL`): the read needs a timer.
    InTurn,
}

impl SharedTier {
    /// Runs one operation on the tier's runtime, under `budget` and the breaker.
    pub(super) async fn run_within<T, F, Fut>(
        &self,
        budget: Duration,
        op: F,
    ) -> Result<T, TierError>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        if budget.is_zero() {
            self.counters.timeouts.fetch_add(1, Relaxed);
            return Err(TierError::TimedOut);
        }
        if !self.breaker.allow() {
            self.counters.errors.fetch_add(1, Relaxed);
            return Err(TierError::Unavailable);
        }
        let Some(connection) = self.connection.clone() else {
            self.counters.errors.fetch_add(1, Relaxed);
            return Err(TierError::Unavailable);
        };
        let operation = op(connection);
        let (breaker, counters) = (Arc::clone(&self.breaker), Arc::clone(&self.counters));
        // The task records the outcome, not this caller: a caller dropped while it waits (a
        // client gone, a `timeout`, a `select!`) still lets its probe close or reopen the
        // breaker.
        let task = self.runtime.spawn(async move {
            let (result, answered) = outcome(tokio::time::timeout(budget, operation).await);
            // An error reply is Redis answering: a reason to count, not to stop asking it.
            breaker.record(answered);
            counters.record(&result, answered);
            result
        });
        match task.await {
            Ok(result) => result,
            // The operation panicked inside redis-rs, or the tier's runtime is shutting down.
            Err(join) => {
                self.counters.errors.fetch_add(1, Relaxed);
                Err(TierError::Failed(join.to_string()))
            }
        }
    }

    /// [`run_within`](Self::run_within) for a read: on the calling runtime's own connection when
    /// it has one and the breaker is closed (`caller_reads.rs`), in this task, its outcome
    /// recorded here. A read that fails there without Redis answering (that connection broke:
    /// it does not reconnect, the tier's does) is sent again through the tier's runtime with
    /// what is left of the budget.
    pub(super) async fn read_within<T, F, Fut>(
        &self,
        budget: Duration,
        requests: Requests,
        op: F,
    ) -> Result<T, TierError>
    where
        F: FnOnce(Connection) -> Fut + Clone,
        Fut: Future<Output = redis::RedisResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        // No budget left: `run_within` counts the timeout.
        let caller = match !budget.is_zero() && self.breaker.is_closed() {
            true => self.caller_connections.current(),
            false => None,
        };
        let Some(connection) = caller else {
            return self.run_within(budget, op).await;
        };
        // What is left after a failure is measured on the coarse clock: a hit reads no other.
        let started = CoarseInstant::now();
        let operation = op.clone()(connection);
        let timed = if requests == Requests::AtOnce && budget >= self.config.operation_timeout {
            // The connection's response timeout is the whole budget and bounds each request
            // (a cluster's, each request with its redirections): a timer of ours around them
            // would only cost (about 1,400 instructions a Redis hit).
            Ok(operation.await)
        } else {
            match tokio::time::Instant::now().checked_add(budget) {
                Some(deadline) => tokio::time::timeout_at(deadline, operation).await,
                None => Ok(operation.await), // a budget past the clock's range: none
            }
        };
        let (result, answered) = outcome(timed);
        self.breaker.record(answered);
        self.counters.record(&result, answered);
        self.counters.caller_reads.fetch_add(1, Relaxed);
        if answered {
            return result;
        }
        self.caller_connections.forget_current();
        let left = budget.saturating_sub(started.elapsed());
        if left.is_zero() {
            return result;
        }
        self.run_within(left, op).await
    }

    /// Runs `script` with these keys and arguments, under the operation budget.
    pub(super) async fn eval<T>(
        &self,
        script: &Script,
        keys: Vec<String>,
        args: Vec<Vec<u8>>,
    ) -> Result<T, TierError>
    where
        T: redis::FromRedisValue + Send + 'static,
    {
        self.eval_within(self.config.operation_timeout, script, keys, args)
            .await
    }

    /// Runs `script` with these keys and arguments, under `budget`.
    pub(super) async fn eval_within<T>(
        &self,
        budget: Duration,
        script: &Script,
        keys: Vec<String>,
        args: Vec<Vec<u8>>,
    ) -> Result<T, TierError>
    where
        T: redis::FromRedisValue + Send + 'static,
    {
        let script = script.clone();
        self.run_within(budget, move |connection| {
            invoke(script, keys, args, connection)
        })
        .await
    }

    /// [`eval_within`](Self::eval_within) for a read script (a miss's): through
    /// [`read_within`](Self::read_within), on the caller's connection where it has one. (The
    /// closure is spelled in both: a function returning it would need `impl Trait` in an `Fn`
    /// bound's return type, not stable, or a boxed future per script call.)
    pub(super) async fn eval_read_within<T>(
        &self,
        budget: Duration,
        script: &Script,
        keys: Vec<String>,
        args: Vec<Vec<u8>>,
    ) -> Result<T, TierError>
    where
        T: redis::FromRedisValue + Send + 'static,
    {
        let script = script.clone();
        // `EVALSHA`, then `EVAL` if Redis does not have the script: in turn.
        self.read_within(budget, Requests::InTurn, move |connection| {
            invoke(script, keys, args, connection)
        })
        .await
    }
}

/// Runs `script` with these keys and arguments on `connection`: the operation
/// [`SharedTier::eval_within`] and [`SharedTier::eval_read_within`] run, and each of a
/// cluster's single-key scripts.
pub(super) async fn invoke<T: redis::FromRedisValue>(
    script: Script,
    keys: impl IntoIterator<Item = String>,
    args: Vec<Vec<u8>>,
    mut connection: Connection,
) -> redis::RedisResult<T> {
    let mut invocation = script.prepare_invoke();
    for key in keys {
        invocation.key(key);
    }
    for arg in args {
        invocation.arg(arg);
    }
    invocation.invoke_async(&mut connection).await
}

/// An operation's result, and whether Redis answered it.
fn outcome<T>(
    timed: Result<redis::RedisResult<T>, tokio::time::error::Elapsed>,
) -> (Result<T, TierError>, bool) {
    match timed {
        Ok(Ok(value)) => (Ok(value), true),
        // The client's own response timeout (the same budget) is a timeout too.
        Ok(Err(e)) if e.is_timeout() => (Err(TierError::TimedOut), false),
        Ok(Err(e)) => (Err(TierError::Failed(e.to_string())), redis_answered(&e)),
        Err(_elapsed) => (Err(TierError::TimedOut), false),
    }
}

/// Whether `error` is a reply from a working server (a refused command), rather than a sign
/// that it is unreachable, overloaded or not ready (which the breaker should count).
fn redis_answered(error: &redis::RedisError) -> bool {
    match error.code() {
        Some("LOADING" | "BUSY" | "TRYAGAIN" | "MASTERDOWN" | "CLUSTERDOWN" | "OOM") => false,
        Some(_) => true,
        None => false,
    }
}

impl Counters {
    fn record<T>(&self, result: &Result<T, TierError>, answered: bool) {
        self.connected.store(answered, Relaxed);
        match result {
            Ok(_) => {}
            Err(TierError::TimedOut) => {
                self.timeouts.fetch_add(1, Relaxed);
            }
            Err(_) => {
                self.errors.fetch_add(1, Relaxed);
            }
        }
    }
}
