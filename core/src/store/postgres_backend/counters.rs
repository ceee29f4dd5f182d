//! Counters (ids, card numbers, the audit sequence) on a shared store.
//!
//! A counter is a record of the key space like any other, moved by a compare-and-set on
//! a connection of its own and committed at once, so writers never wait for each
//! other's counters. That commit does not wait for the disk: the transaction that uses
//! a value commits after it, and PostgreSQL's log is flushed in order.
//!
//! A process that takes a counter often reserves several values at a time and hands
//! them out itself, so a busy till pays one compare-and-set for a run of values instead
//! of one per value (8 clients checking out on one store: two counter transactions per
//! checkout cost about a fifth of the throughput). The reservation starts at one value
//! and doubles while the counter keeps being taken within [`REFILL_WINDOW`], up to
//! [`RESERVE_MAX`]; a counter taken once now and then reserves one value at a time. So
//! a one-off process (a `pitstop` command) leaves no gap, and a process that ends with
//! values still reserved leaves a gap of at most [`RESERVE_MAX`] − 1 (ids may have gaps
//! anyway: a value taken by an operation that then fails is never handed out again).
//! Values handed out by one process increase; two processes' values interleave.

use super::connection::Connection;
use super::{COUNTER_ATTEMPTS, PostgresBackend, conflict, map_error, release_to};
use crate::error::{Error, Result};
use crate::store::keys;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The most values one compare-and-set reserves.
pub(super) const RESERVE_MAX: u64 = 32;
/// A counter taken again within this time after its last reservation reserves twice as
/// many values the next time.
const REFILL_WINDOW: Duration = Duration::from_secs(2);

/// This process's counters of one store.
#[derive(Default)]
pub(super) struct Counters {
    /// Connections that take counters: their commits do not wait for the disk.
    idle: Mutex<Vec<Connection>>,
    /// Each counter's reservation. One lock per counter: this process's threads take a
    /// counter one at a time, so each compare-and-set succeeds at its first try unless
    /// another process moved the counter (8 threads racing made 3.6 updates per
    /// checkout instead of 2). Counters are a fixed, small set of keys.
    reserved: Mutex<HashMap<Vec<u8>, Arc<Mutex<Reserved>>>>,
}

/// The values of one counter this process reserved and has not handed out yet.
#[derive(Default)]
struct Reserved {
    /// The next value to hand out.
    next: u64,
    /// One past the last reserved value (`next == end`: none left).
    end: u64,
    /// How many values the last compare-and-set reserved.
    size: u64,
    /// The counter's stored value as this process last wrote it (encoded): the
    /// compare-and-set tries it first and reads the counter only when another process
    /// moved it.
    stored: Option<Vec<u8>>,
    /// When the last compare-and-set was made.
    refilled: Option<Instant>,
}

impl Reserved {
    /// How many values to reserve now for a take of `count`.
    fn next_size(&self, count: u64) -> u64 {
        let busy = self.refilled.is_some_and(|at| at.elapsed() < REFILL_WINDOW);
        let size = if busy {
            (self.size * 2).min(RESERVE_MAX)
        } else {
            1
        };
        size.max(count)
    }
}

impl PostgresBackend {
    /// Take `count` consecutive values of the counter at `key`; returns the first.
    pub(super) fn take_counter(&self, key: &[u8], count: u64) -> Result<u64> {
        assert!(count >= 1, "a counter is taken by at least one value");
        let reserved = Arc::clone(
            self.counters
                .reserved
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(key.to_vec())
                .or_default(),
        );
        let mut reserved = reserved.lock().unwrap_or_else(|p| p.into_inner());
        if reserved.end - reserved.next >= count {
            let first = reserved.next;
            reserved.next += count;
            return Ok(first);
        }
        let size = reserved.next_size(count);
        let mut connection = self.checkout_counters()?;
        let outcome = self.compare_and_set_counter(&mut connection, key, size, &mut reserved);
        release_to(&self.counters.idle, connection);
        let first = outcome?;
        reserved.next = first + count;
        reserved.end = first + size;
        reserved.size = size;
        reserved.refilled = Some(Instant::now());
        debug_assert!(reserved.next <= reserved.end);
        Ok(first)
    }

    /// A connection for counters: an idle one, or a new one whose commits do not wait
    /// for the disk (see the module's documentation).
    fn checkout_counters(&self) -> Result<Connection> {
        loop {
            let idle = self
                .counters
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop();
            match idle {
                Some(connection) if connection.link.is_closed() => continue,
                Some(connection) => return Ok(connection),
                None => {
                    let connection = self.connect()?;
                    connection
                        .link
                        .batch_execute("SET synchronous_commit = off")
                        .map_err(|err| map_error(&self.label, "configuring the connection", err))?;
                    return Ok(connection);
                }
            }
        }
    }

    /// Move the counter at `key` on by `size`, committed at once; returns the first of
    /// the values moved over.
    fn compare_and_set_counter(
        &self,
        connection: &mut Connection,
        key: &[u8],
        size: u64,
        reserved: &mut Reserved,
    ) -> Result<u64> {
        let fail = |err| map_error(&self.label, "taking an id", err);
        let (link, statements) = (&connection.link, &connection.statements);
        let mut last_seen = reserved.stored.take();
        for _ in 0..COUNTER_ATTEMPTS {
            let stored = match last_seen.take() {
                Some(bytes) => Some(bytes),
                None => link
                    .query_opt(&statements.get, &[&key])
                    .map_err(fail)?
                    .map(|row| row.get::<_, Vec<u8>>(0)),
            };
            let current: u64 = match &stored {
                Some(bytes) => crate::store::decode(key, bytes)?,
                None => 0,
            };
            let moved = current.checked_add(size).ok_or_else(|| {
                Error::internal(format!("counter {} overflowed", keys::display(key)))
            })?;
            let encoded = crate::store::encode(&moved)?;
            let changed = match &stored {
                Some(bytes) => link.execute(&statements.compare_and_set, &[&key, bytes, &encoded]),
                None => link.execute(&statements.insert_new, &[&key, &encoded]),
            }
            .map_err(fail)?;
            if changed == 1 {
                reserved.stored = Some(encoded);
                return Ok(current + 1);
            }
        }
        Err(conflict(
            &self.label,
            format!("the counter {} kept changing under it", keys::display(key)),
            "locks",
        ))
    }
}
