//! [`PgView`]: a snapshot, stepwise reads or a writer on one pooled connection; how a
//! scoped writer takes the locks of what it reads and writes, and caches what it read.

use super::connection::{Connection, Params, Statements, lock_params};
use super::known::KnownRanges;
use super::sql::{SplitBatch, is_connection_lost, map_error, split_batch};
use super::{BEGIN_ATTEMPTS, LOCK_CLASS, PostgresBackend, SCOPE_LOCK_TIMEOUT_MS, conflict};
use crate::error::{Error, ErrorCode, Result};
use crate::store::lock_scope::{self, Mode, Scope};
use crate::store::{Pair, View, WriteBatch, WriteView};
use serde_json::json;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio_postgres::{Row, Statement};

/// How a view's transaction starts. The statements go to the server with the view's
/// first flight (its first read, or its batch), not in a round trip of their own.
pub(super) enum Prelude {
    /// A consistent snapshot (REPEATABLE READ, READ ONLY).
    Snapshot,
    /// The one writer: the store's lock held exclusively.
    Whole,
    /// A scoped writer: the store's lock shared, the scope lock timeout, `locks`, then
    /// a read of `keys` (which nearly every writer reads).
    Scoped {
        locks: Vec<(i64, Mode)>,
        keys: Vec<Vec<u8>>,
    },
}

impl Prelude {
    /// The prelude's statements, `params` holding what they bind.
    fn calls<'c>(
        &'c self,
        statements: &'c Statements,
        params: &'c PreludeParams,
    ) -> Vec<(&'c Statement, Params<'c>)> {
        match self {
            Prelude::Snapshot => vec![(&statements.begin_snapshot, vec![])],
            Prelude::Whole => vec![
                (&statements.begin_writing, vec![]),
                (&statements.lock_store_exclusive, vec![&LOCK_CLASS]),
            ],
            // The store's lock is waited for as long as a whole-store writer may hold
            // it; a customer or a key for SCOPE_LOCK_TIMEOUT_MS.
            Prelude::Scoped { keys, .. } => vec![
                (&statements.begin_writing, vec![]),
                (&statements.lock_store_shared, vec![&LOCK_CLASS]),
                (&statements.set_lock_timeout, vec![&params.timeout]),
                (&statements.lock, vec![&params.ids, &params.shared]),
                (&statements.get_many, vec![keys]),
            ],
        }
    }
}

/// What a prelude's statements bind.
struct PreludeParams {
    timeout: String,
    ids: Vec<i64>,
    shared: Vec<bool>,
}

/// Most rows of one of a customer's ranges read with the customer's lock; a customer
/// with more has the rest read when asked for.
const PREFETCH_RANGE_ROWS_MAX: usize = 256;

/// What a read that takes a lock first reads.
enum Wanted<'k> {
    Key(&'k [u8]),
    Range {
        start: &'k [u8],
        end: &'k [u8],
        limit: i64,
        reverse: bool,
    },
}

/// What locking a customer reads with the lock: their one-record tables and the first
/// rows of their ranges ([`lock_scope::customer_records`], [`lock_scope::customer_ranges`]).
struct CustomerPrefetch {
    records: Vec<Vec<u8>>,
    ranges: [(Vec<u8>, Vec<u8>); 3],
    limit: i64,
}

impl CustomerPrefetch {
    fn of(customer: u64) -> CustomerPrefetch {
        CustomerPrefetch {
            records: lock_scope::customer_records(customer),
            ranges: lock_scope::customer_ranges(customer),
            limit: PREFETCH_RANGE_ROWS_MAX as i64,
        }
    }

    /// The statement that reads it.
    fn call<'s, 'p>(&'p self, statements: &'s Statements) -> (&'s Statement, Params<'p>) {
        let [(start_a, end_a), (start_b, end_b), (start_c, end_c)] = &self.ranges;
        let params: Params<'p> = vec![
            &self.records,
            start_a,
            end_a,
            start_b,
            end_b,
            start_c,
            end_c,
            &self.limit,
        ];
        (&statements.customer_prefetch, params)
    }
}

/// Most bytes a writer or a snapshot keeps of what it read.
const CACHE_BYTES_MAX: usize = 32 * 1024 * 1024;

/// Values read by a writer, by key (`None`: the key is absent).
type ReadCache = HashMap<Vec<u8>, Option<Vec<u8>>>;

/// A view on one pooled connection: a snapshot (a REPEATABLE READ READ ONLY
/// transaction), stepwise reads (each statement its own transaction), or the writer (a
/// transaction holding the store's advisory lock). Dropped, it ends its transaction with
/// `end` (a writer that applied has already committed) and gives the connection back.
pub(super) struct PgView<'a> {
    backend: &'a PostgresBackend,
    connection: RefCell<Option<Connection>>,
    end: Option<&'static str>,
    /// The start of the view's transaction, until its first flight carries it.
    prelude: RefCell<Option<Prelude>>,
    /// A scoped writer's locks, by advisory lock id; `None` for every other view.
    scoped: Option<RefCell<HashMap<i64, Mode>>>,
    /// A writer's reads (`None`: absent), each made under a lock it holds to its end (or
    /// while no one else writes), so they stay true: a key read twice costs one round
    /// trip, and a customer's records come in the round trip that locks the customer.
    read_cache: Option<RefCell<ReadCache>>,
    /// A writer's range reads, true for the same reason: the range's lock (or the whole
    /// store) is held to the writer's end. Locking a customer reads the customer's small
    /// ranges (visit days, open recommendations) with it, and the domain's neighbour and
    /// point reads inside them need no round trip.
    known: Option<RefCell<KnownRanges>>,
    /// Bytes held by the two caches, bounded by [`CACHE_BYTES_MAX`]: a write that reads
    /// more (a whole-store job) reads the rest again when it asks again.
    cached_bytes: Cell<usize>,
    /// A snapshot's customers whose records and ranges it has read (`None`: no
    /// snapshot).
    snapshot_customers: Option<RefCell<HashSet<u64>>>,
}

impl<'a> PgView<'a> {
    pub(super) fn new(
        backend: &'a PostgresBackend,
        connection: Connection,
        end: Option<&'static str>,
    ) -> Self {
        PgView {
            backend,
            connection: RefCell::new(Some(connection)),
            end,
            prelude: RefCell::new(None),
            scoped: None,
            read_cache: None,
            known: None,
            cached_bytes: Cell::new(0),
            snapshot_customers: None,
        }
    }

    /// A REPEATABLE READ snapshot that keeps what it read (the state it sees never
    /// changes) and reads each customer's records with the first read of them.
    pub(super) fn snapshot(backend: &'a PostgresBackend, connection: Connection) -> Self {
        let mut view = PgView::new(backend, connection, Some("ROLLBACK"));
        view.prelude = RefCell::new(Some(Prelude::Snapshot));
        view.read_cache = Some(RefCell::new(HashMap::new()));
        view.known = Some(RefCell::new(KnownRanges::default()));
        view.snapshot_customers = Some(RefCell::new(HashSet::new()));
        view
    }

    pub(super) fn writer(
        backend: &'a PostgresBackend,
        connection: Connection,
        prelude: Prelude,
    ) -> Self {
        let mut view = PgView::new(backend, connection, Some("ROLLBACK"));
        view.prelude = RefCell::new(Some(prelude));
        view.read_cache = Some(RefCell::new(HashMap::new()));
        view.known = Some(RefCell::new(KnownRanges::default()));
        view
    }

    fn cached(&self, key: &[u8]) -> Option<Option<Vec<u8>>> {
        self.read_cache.as_ref()?.borrow().get(key).cloned()
    }

    /// Keep what was read of `key`. A key kept already keeps its value: what a view
    /// keeps stays true to its end, and its bytes are counted once.
    fn remember(&self, key: &[u8], value: &Option<Vec<u8>>) {
        let Some(cache) = &self.read_cache else {
            return;
        };
        if cache.borrow().contains_key(key) {
            return;
        }
        if self.room_for(key.len() + value.as_ref().map_or(0, Vec::len)) {
            cache.borrow_mut().insert(key.to_vec(), value.clone());
        }
    }

    /// Whether the caches may hold `bytes` more; if so, count them.
    fn room_for(&self, bytes: usize) -> bool {
        let held = self.cached_bytes.get().saturating_add(bytes);
        if held > CACHE_BYTES_MAX {
            return false;
        }
        self.cached_bytes.set(held);
        true
    }

    /// Note a range read in the known ranges, room permitting.
    fn learn(&self, range: (&[u8], &[u8]), limit: usize, reverse: bool, pairs: &[Pair]) {
        let bytes: usize = pairs.iter().map(|(k, v)| k.len() + v.len()).sum();
        if let Some(known) = &self.known
            && self.room_for(bytes)
        {
            known.borrow_mut().learn(range, limit, reverse, pairs);
        }
    }

    pub(super) fn scoped_writer(
        backend: &'a PostgresBackend,
        connection: Connection,
        prelude: Prelude,
    ) -> Self {
        let locks = match &prelude {
            Prelude::Scoped { locks, .. } => locks.clone(),
            _ => Vec::new(),
        };
        let mut view = PgView::writer(backend, connection, prelude);
        view.scoped = Some(RefCell::new(HashMap::new()));
        // The prelude takes them before anything else the view sends.
        for (id, mode) in locks {
            view.hold(id, mode);
        }
        view
    }

    /// Send `build`'s statements in one flight, after the prelude if it is still
    /// pending; the rows of each statement `build` made.
    fn send<'p>(
        &self,
        doing: &str,
        build: impl for<'c> Fn(&'c Statements) -> Vec<(&'c Statement, Params<'p>)>,
    ) -> Result<Vec<Vec<Row>>> {
        self.send_raw(build)?
            .map_err(|err| map_error(&self.backend.label, doing, err))
    }

    /// [`PgView::send`], its PostgreSQL error left as it is. A flight that starts the
    /// transaction and finds the connection dead (a restarted server, a connection an
    /// administrator killed) is sent again on another connection, a few times: nothing
    /// had happened in that transaction yet.
    fn send_raw<'p>(
        &self,
        build: impl for<'c> Fn(&'c Statements) -> Vec<(&'c Statement, Params<'p>)>,
    ) -> Result<std::result::Result<Vec<Vec<Row>>, tokio_postgres::Error>> {
        let Some(prelude) = self.prelude.borrow_mut().take() else {
            return self.with_raw(|c| c.link.pipeline(&build(&c.statements)));
        };
        let (ids, shared) = match &prelude {
            Prelude::Scoped { locks, .. } => lock_params(locks),
            _ => (Vec::new(), Vec::new()),
        };
        let params = PreludeParams {
            timeout: SCOPE_LOCK_TIMEOUT_MS.to_string(),
            ids,
            shared,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.with_raw(|c| {
                let mut calls = prelude.calls(&c.statements, &params);
                let started = calls.len();
                calls.extend(build(&c.statements));
                let mut rows = c.link.pipeline(&calls)?;
                let asked = rows.split_off(started);
                Ok((rows, asked))
            })?;
            match outcome {
                Ok((started, asked)) => {
                    if let Prelude::Scoped { keys, .. } = &prelude {
                        self.remember_found(keys, started.last().map_or(&[], Vec::as_slice))?;
                    }
                    return Ok(Ok(asked));
                }
                Err(err) if attempt < BEGIN_ATTEMPTS && is_connection_lost(&err) => {
                    std::thread::sleep(Duration::from_millis(100 * u64::from(attempt)));
                    let fresh = self.backend.checkout()?;
                    *self.connection.borrow_mut() = Some(fresh);
                }
                Err(err) => return Ok(Err(err)),
            }
        }
    }

    /// The lock a scoped writer must take before touching `scope` in `mode`, unless it
    /// holds it already (or is no scoped writer).
    fn lock_needed(&self, (scope, mode): (Scope, Mode)) -> Result<Option<(i64, Mode)>> {
        let Some(held) = &self.scoped else {
            return Ok(None);
        };
        if scope == Scope::Store {
            return Err(conflict(
                &self.backend.label,
                "the operation reads across customers, which needs the whole store".to_string(),
                "whole_store",
            ));
        }
        let id = self.backend.lock_id(scope);
        match held.borrow().get(&id) {
            Some(have) if *have >= mode => Ok(None),
            _ => Ok(Some((id, mode))),
        }
    }

    /// Take `lock` (if any) and then read what is `wanted` (whose statement snapshot is
    /// therefore taken after the lock is granted) in one round trip; the rows read. A
    /// customer's first read (under their lock, or in a snapshot) also reads the
    /// customer's own records and first rows of their ranges into the caches; a wanted
    /// key among those records comes with them (`None`).
    fn lock_and_query(
        &self,
        lock: Option<(i64, Mode)>,
        scope: Scope,
        wanted: Wanted<'_>,
    ) -> Result<Option<Vec<Row>>> {
        let prefetch = match scope {
            Scope::Customer(customer) if self.read_cache.is_some() => {
                Some(CustomerPrefetch::of(customer))
            }
            _ => None,
        };
        let covered = match (&wanted, &prefetch) {
            (Wanted::Key(key), Some(prefetch)) => prefetch.records.iter().any(|r| r == key),
            _ => false,
        };
        let (ids, shared) = lock_params(lock.as_slice());
        let results = self.send("reading", |statements| {
            let mut calls: Vec<(&Statement, Params<'_>)> = Vec::new();
            if lock.is_some() {
                calls.push((&statements.lock, vec![&ids, &shared]));
            }
            match &wanted {
                _ if covered => {}
                Wanted::Key(key) => calls.push((&statements.get, vec![key])),
                Wanted::Range {
                    start,
                    end,
                    limit,
                    reverse,
                } => calls.push((statements.scan(*reverse), vec![start, end, limit])),
            }
            calls.extend(prefetch.iter().map(|prefetch| prefetch.call(statements)));
            calls
        })?;
        if let Some((id, mode)) = lock {
            self.hold(id, mode);
        }
        let mut results = results.into_iter().skip(usize::from(lock.is_some()));
        let rows = match covered {
            true => None,
            false => Some(results.next().unwrap_or_default()),
        };
        if let Some(prefetch) = &prefetch {
            self.remember_prefetch(prefetch, &results.next().unwrap_or_default())?;
        }
        Ok(rows)
    }

    /// Cache what locking a customer read: their records, and of each of their ranges
    /// the first rows (in key order).
    fn remember_prefetch(&self, prefetch: &CustomerPrefetch, rows: &[Row]) -> Result<()> {
        let mut found = pairs_of(rows)?;
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (start, end) in &prefetch.ranges {
            let in_range: Vec<Pair> = found
                .iter()
                .filter(|(k, _)| k.as_slice() >= start.as_slice() && k.as_slice() < end.as_slice())
                .cloned()
                .collect();
            self.learn((start, end), PREFETCH_RANGE_ROWS_MAX, false, &in_range);
        }
        self.remember_pairs(&prefetch.records, &found);
        Ok(())
    }

    /// Note a lock taken by a scoped writer (held to the end of its transaction).
    pub(super) fn hold(&self, id: i64, mode: Mode) {
        if let Some(held) = &self.scoped {
            let mut held = held.borrow_mut();
            let entry = held.entry(id).or_insert(mode);
            *entry = (*entry).max(mode);
        }
    }

    /// After `locks` were taken and `keys` read (`rows`): note the locks as held and
    /// cache what was found.
    pub(super) fn took_and_read<K: AsRef<[u8]>>(
        &self,
        locks: &[(i64, Mode)],
        keys: &[K],
        rows: &[Row],
    ) -> Result<()> {
        for (id, mode) in locks {
            self.hold(*id, *mode);
        }
        self.remember_found(keys, rows)
    }

    /// Cache what a read of `keys` found (`rows` of key and value); a key without a row
    /// is absent.
    fn remember_found<K: AsRef<[u8]>>(&self, keys: &[K], rows: &[Row]) -> Result<()> {
        self.remember_pairs(keys, &pairs_of(rows)?);
        Ok(())
    }

    /// Cache each of `keys` as `found` holds it (absent when it holds no pair for it).
    fn remember_pairs<K: AsRef<[u8]>>(&self, keys: &[K], found: &[Pair]) {
        for key in keys {
            let key = key.as_ref();
            let value = found
                .iter()
                .find(|(k, _)| k.as_slice() == key)
                .map(|(_, v)| v.clone());
            self.remember(key, &value);
        }
    }

    fn lock_and_read(
        &self,
        lock: Option<(i64, Mode)>,
        scope: Scope,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        match self.lock_and_query(lock, scope, Wanted::Key(key))? {
            Some(rows) => rows.first().map(|row| column(row, 0)).transpose(),
            // It came with the customer's records; read it again only if the cache
            // had no room for it (the lock is held now).
            None => match self.cached(key) {
                Some(value) => Ok(value),
                None => self.plain_read(key),
            },
        }
    }

    fn locked_scan(
        &self,
        lock: (i64, Mode),
        (start, end): (&[u8], &[u8]),
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Pair>> {
        let scope = lock_scope::of_range(start, end);
        let wanted = Wanted::Range {
            start,
            end,
            limit: i64::try_from(limit).unwrap_or(i64::MAX),
            reverse,
        };
        pairs_of(
            &self
                .lock_and_query(Some(lock), scope, wanted)?
                .unwrap_or_default(),
        )
    }

    /// Before a scoped writer's batch: the exclusive locks of everything it writes that
    /// it does not hold yet, in lock order.
    fn write_lock_ids(&self, batch: &WriteBatch) -> Result<Vec<i64>> {
        let mut ids = Vec::new();
        for key in batch.keys() {
            if let Some((id, _)) = self.lock_needed(lock_scope::of_key(key, true))? {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    pub(super) fn with<T>(
        &self,
        doing: &str,
        work: impl FnOnce(&mut Connection) -> std::result::Result<T, tokio_postgres::Error>,
    ) -> Result<T> {
        self.with_raw(work)?
            .map_err(|err| map_error(&self.backend.label, doing, err))
    }

    /// Run `work` on the view's connection, its PostgreSQL error left as it is.
    fn with_raw<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> std::result::Result<T, tokio_postgres::Error>,
    ) -> Result<std::result::Result<T, tokio_postgres::Error>> {
        let mut slot = self.connection.borrow_mut();
        let connection = slot
            .as_mut()
            .ok_or_else(|| Error::internal("a PostgreSQL view was used after it ended"))?;
        Ok(work(connection))
    }

    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(value) = self.cached(key) {
            return Ok(value);
        }
        if let Some(value) = self.known.as_ref().and_then(|k| k.borrow().value(key)) {
            return Ok(value);
        }
        let (scope, mode) = lock_scope::of_key(key, false);
        if let Some(lock) = self.lock_needed((scope, mode))? {
            let value = self.lock_and_read(Some(lock), scope, key)?;
            self.remember(key, &value);
            return Ok(value);
        }
        // A snapshot reads a customer's records and ranges in the round trip of its first
        // read of that customer (a quote reads most of them); it sees one state, so what
        // it read stays true to its end.
        if let (Scope::Customer(customer), Some(seen)) = (scope, &self.snapshot_customers)
            && seen.borrow_mut().insert(customer)
        {
            let value = self.lock_and_read(None, scope, key)?;
            self.remember(key, &value);
            return Ok(value);
        }
        let value = self.plain_read(key)?;
        self.remember(key, &value);
        Ok(value)
    }

    fn plain_read(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let rows = self.send("reading", |statements| vec![(&statements.get, vec![&key])])?;
        match rows.first().map(Vec::as_slice) {
            Some([]) | None => Ok(None),
            Some([row]) => column(row, 0).map(Some),
            Some(_) => Err(Error::internal("PostgreSQL sent two rows for one key")),
        }
    }

    fn read_range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Pair>> {
        if start >= end || limit == 0 {
            return Ok(Vec::new());
        }
        let Some(known) = &self.known else {
            return self.read_range_now(start, end, limit, reverse);
        };
        if let Some(pairs) = known.borrow().answer((start, end), limit, reverse) {
            return Ok(pairs);
        }
        let pairs = self.read_range_now(start, end, limit, reverse)?;
        // A snapshot keeps only the customers' ranges it prefetched: its other scans are
        // reports and exports, read once.
        if self.snapshot_customers.is_none() {
            self.learn((start, end), limit, reverse, &pairs);
        }
        Ok(pairs)
    }

    fn read_range_now(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Pair>> {
        if self.scoped.is_some() {
            let scope = lock_scope::of_range(start, end);
            if let Some(lock) = self.lock_needed((scope, Mode::Exclusive))? {
                return self.locked_scan(lock, (start, end), limit, reverse);
            }
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.send("scanning", |statements| {
            vec![(statements.scan(reverse), vec![&start, &end, &limit])]
        })?;
        pairs_of(rows.first().map_or(&[], Vec::as_slice))
    }

    /// End the transaction the connection is in (if `end` is given) and give the
    /// connection back, or drop it when it is broken.
    fn finish(&self, end: Option<&str>) {
        let Some(connection) = self.connection.borrow_mut().take() else {
            return;
        };
        if let Some(end) = end
            && connection.link.batch_execute(end).is_err()
        {
            return;
        }
        self.backend.release(connection);
    }
}

impl View for PgView<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.read(key)
    }
    fn scan(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>> {
        self.read_range(start, end, limit, reverse)
    }
}

impl WriteView for PgView<'_> {
    fn apply(&mut self, batch: &WriteBatch) -> Result<()> {
        let lock_ids = self.write_lock_ids(batch)?;
        let exclusive = vec![false; lock_ids.len()];
        let SplitBatch {
            put_keys,
            put_values,
            deleted,
        } = split_batch(batch);
        // Locks, writes and COMMIT in one round trip; a statement that fails aborts the
        // transaction, and the COMMIT after it only rolls back.
        let outcome = self
            .send_raw(|statements| {
                let mut calls: Vec<(&Statement, Params<'_>)> = Vec::new();
                if !lock_ids.is_empty() {
                    calls.push((&statements.lock, vec![&lock_ids, &exclusive]));
                }
                if !put_keys.is_empty() {
                    calls.push((&statements.upsert, vec![&put_keys, &put_values]));
                }
                if !deleted.is_empty() {
                    calls.push((&statements.delete, vec![&deleted]));
                }
                calls.push((&statements.commit, vec![]));
                calls
            })?
            .map(|_| ());
        match outcome {
            Ok(()) => {
                self.finish(None);
                Ok(())
            }
            Err(err) if err.code().is_none() && is_connection_lost(&err) => {
                // The connection died with the COMMIT perhaps on its way: it may or may
                // not have landed. Only the caller's idempotency key can tell.
                let err = map_error(&self.backend.label, "committing", err);
                Err(Error::new(
                    ErrorCode::Unavailable,
                    format!(
                        "{}; the commit's outcome is unknown: retry with the same idempotency_key",
                        err.message
                    ),
                )
                .with_details(json!({ "store": self.backend.label, "retryable": true, "outcome_unknown": true })))
            }
            // The server refused a statement: the transaction never committed.
            Err(err) => Err(map_error(&self.backend.label, "writing", err)),
        }
    }

    fn read_for_write(&self, keys: &[Vec<u8>]) -> Result<()> {
        self.read_locked(keys, true)
    }

    fn read_ahead(&self, keys: &[Vec<u8>]) -> Result<()> {
        self.read_locked(keys, false)
    }

    fn take_counter(&self, key: &[u8], count: u64) -> Result<Option<u64>> {
        self.take_counter_now(key, count).map(Some)
    }
}

impl PgView<'_> {
    fn take_counter_now(&self, key: &[u8], count: u64) -> Result<u64> {
        self.backend.take_counter(key, count)
    }
}

impl PgView<'_> {
    /// Read `keys` not read yet in one flight, each under the lock a read (or, with
    /// `write`, a write) of it takes; a customer whose lock this takes first comes with
    /// their records and ranges (only on a read ahead: the amended figures a writer
    /// reads for writing are not a customer's).
    fn read_locked(&self, keys: &[Vec<u8>], write: bool) -> Result<()> {
        let mut locks = Vec::new();
        let mut unread = Vec::new();
        let mut prefetches: Vec<(u64, CustomerPrefetch)> = Vec::new();
        for key in keys {
            if self.cached(key).is_some() {
                continue;
            }
            let (scope, mode) = lock_scope::of_key(key, write);
            if let Some(lock) = self.lock_needed((scope, mode))? {
                locks.push(lock);
                if let Scope::Customer(customer) = scope
                    && !write
                    && !prefetches.iter().any(|(seen, _)| *seen == customer)
                {
                    prefetches.push((customer, CustomerPrefetch::of(customer)));
                }
            }
            unread.push(key);
        }
        if unread.is_empty() {
            return Ok(());
        }
        locks.sort_unstable();
        locks.dedup();
        let (ids, shared) = lock_params(&locks);
        let results = self.send("reading", |statements| {
            let mut calls: Vec<(&Statement, Params<'_>)> = Vec::new();
            if !locks.is_empty() {
                calls.push((&statements.lock, vec![&ids, &shared]));
            }
            calls.push((&statements.get_many, vec![&unread]));
            calls.extend(
                prefetches
                    .iter()
                    .map(|(_, prefetch)| prefetch.call(statements)),
            );
            calls
        })?;
        let mut results = results.into_iter().skip(usize::from(!locks.is_empty()));
        self.took_and_read(&locks, &unread, &results.next().unwrap_or_default())?;
        for (_, prefetch) in &prefetches {
            self.remember_prefetch(prefetch, &results.next().unwrap_or_default())?;
        }
        Ok(())
    }
}

impl Drop for PgView<'_> {
    fn drop(&mut self) {
        // A writer that did not apply (an error, or nothing to write) rolls back and
        // releases the lock; a snapshot rolls back; stepwise reads, and a view that never
        // sent its prelude, have nothing to end.
        let begun = self.prelude.borrow().is_none();
        self.finish(if begun { self.end } else { None });
    }
}

/// Column `index` of a row as bytes.
fn column(row: &Row, index: usize) -> Result<Vec<u8>> {
    row.try_get::<_, Vec<u8>>(index)
        .map_err(|err| Error::internal(format!("PostgreSQL sent a row Pitstop cannot read: {err}")))
}

/// Rows of key and value as pairs.
fn pairs_of(rows: &[Row]) -> Result<Vec<Pair>> {
    rows.iter()
        .map(|row| Ok((column(row, 0)?, column(row, 1)?)))
        .collect()
}
