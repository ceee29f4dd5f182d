//! Storage: the only module that knows how bytes reach the disk.
//!
//! The domain sees an ordered key-value space through [`Reader`] (point reads and
//! bounded range scans) and [`WriteTxn`] (an overlay of writes applied atomically as
//! one batch). A backend implements [`Backend`]: [`sled_backend`] (one process, the
//! default) and [`postgres_backend`] (many processes on many machines). Both pass the
//! same conformance tests (`store/conformance.rs`).
//!
//! Concurrency model, the same on both backends:
//! - a [`WriteTxn`] sees a stable state plus its own overlay from its start to its
//!   commit, so what it decided from its reads still holds when it commits. On sled it
//!   is the store's one writer. On a shared store a scoped writer ([`Store::write_scoped`])
//!   locks only what it touches ([`lock_scope`]): writers of different customers run
//!   at once, and a writer that would wait on another in a cycle fails with a conflict
//!   ([`is_conflict`]) that the session retries;
//! - a [`ReadTxn`] never sees half of a batch, nor a batch applied after it began;
//! - durability: a PostgreSQL commit is durable when it returns; on sled it is a
//!   separate, later step, [`Store::wait_durable`], which implements group commit — one
//!   committer syncs, every committer whose batch was applied before that sync began is
//!   acknowledged by it.
//!
//! Every stored value is `crc32(payload) ++ payload`, payload being bincode (records) or
//! JSON (documents). A checksum mismatch is `corrupted`, never a wrong figure.

pub mod backup;
#[cfg(test)]
mod conformance;
pub(crate) mod fsync;
pub mod keys;
pub mod local;
pub mod lock_scope;
pub mod postgres_backend;
pub mod scratch;
pub mod sled_backend;
pub mod wal;
mod write_txn;

pub use write_txn::WriteTxn;

use crate::error::{Error, ErrorCode, Result};
use bincode::Options as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

/// Format version written at creation and checked at open. 2: an account's open lots
/// are kept in blocks of their own (format 1 kept them inline in the account record;
/// such a store is read as it is and upgraded at open).
pub const FORMAT_VERSION: u32 = 2;

/// Largest value the store accepts, so no record ever spills into sled's unsynced blobs.
pub const VALUE_BYTES_MAX: usize = 256 * 1024;

/// One atomic set of writes: `None` deletes the key.
pub type WriteBatch = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A key-value pair returned by a scan.
pub type Pair = (Vec<u8>, Vec<u8>);

/// Point reads and bounded scans over one view of the key space.
pub trait View {
    /// Point read.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Keys in `[start, end)` in order (or reverse order), at most `limit` of them.
    fn scan(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>>;
}

/// The writer's view. While it lives no other writer, in this process or any other that
/// shares the store, reads or writes; its reads see the latest state.
pub trait WriteView: View {
    /// Apply every write of the batch atomically (after a crash all or none are present).
    /// Called at most once; the writer stays the writer until the view is dropped.
    fn apply(&mut self, batch: &WriteBatch) -> Result<()>;
    /// Take `count` values of the counter stored at `key` outside this transaction, so
    /// writers running at once never wait for each other's counters (a value taken by a
    /// transaction that then fails is never handed out again: ids may have gaps). `None`:
    /// this backend has one writer at a time, which counts in its own batch.
    fn take_counter(&self, _key: &[u8], _count: u64) -> Result<Option<u64>> {
        Ok(None)
    }
    /// Read `keys` ahead of their use, each locked for writing, so the reads that follow
    /// find them at hand (a shared store reads them all in one round trip). A backend
    /// with one writer at a time has nothing to do.
    fn read_for_write(&self, _keys: &[Vec<u8>]) -> Result<()> {
        Ok(())
    }
    /// Read `keys` ahead of their use, each locked as a read of it locks it, and with a
    /// customer's key the customer's records and ranges: an operation that knows its
    /// first reads asks for them together (one round trip on a shared store instead of
    /// one each). A backend with one writer at a time has nothing to do.
    fn read_ahead(&self, _keys: &[Vec<u8>]) -> Result<()> {
        Ok(())
    }
}

/// What a storage backend must provide. Everything is raw bytes; encoding, checksums,
/// sequencing and group commit live in [`Store`] above it. How a backend keeps writers
/// apart and gives readers whole batches is its own business: one process's locks for
/// sled ([`local::Local`]), a transaction and a lock in the database for PostgreSQL.
pub trait Backend: Send + Sync {
    /// A consistent view: it sees whole batches and never a batch applied after it began.
    fn snapshot(&self) -> Result<Box<dyn View + '_>>;
    /// A view for long reads: each call sees whole batches, two calls may see different
    /// states (see [`Store::read_stepwise`]).
    fn stepwise(&self) -> Result<Box<dyn View + '_>>;
    /// Become the one writer (waits for the current one).
    fn begin_write(&self) -> Result<Box<dyn WriteView + '_>>;
    /// Begin a writer that locks only what it reads and writes ([`lock_scope`]). A
    /// backend with one writer at a time makes it the one writer.
    fn begin_scoped_write(&self) -> Result<Box<dyn WriteView + '_>> {
        self.begin_write()
    }
    /// Make every applied batch durable (survives power loss) before returning.
    fn sync(&self) -> Result<()>;
    /// Bytes the backend occupies on disk.
    fn size_on_disk(&self) -> Result<u64>;
    /// Record that batches up to `seq` are durable (a hint used to detect lost tails).
    fn record_durable_seq(&self, seq: u64) -> Result<()>;
    /// The highest sequence ever recorded durable, if known.
    fn recorded_durable_seq(&self) -> Result<Option<u64>>;
    /// Whether a batch is durable once [`WriteView::apply`] returns (a database commit),
    /// so there is nothing for group commit to do.
    fn durable_on_apply(&self) -> bool {
        false
    }
    /// Whether other processes may write the same store, so what this process keeps in
    /// memory about it (the programme, the enabled plugins) must be checked again.
    fn shared(&self) -> bool {
        false
    }
}

/// bincode with variable-length integers: lengths and ids take one or two bytes
/// instead of eight, which roughly halves most records.
fn bincode_options() -> impl bincode::Options {
    use bincode::Options;
    bincode::DefaultOptions::new()
        .with_varint_encoding()
        .with_little_endian()
}

/// Encode a record as `crc32 ++ bincode`.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let payload = bincode_options()
        .serialize(value)
        .map_err(|err| Error::internal(format!("cannot encode a record: {err}")))?;
    Ok(seal(payload))
}

/// Encode a document as `crc32 ++ JSON`.
pub fn encode_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let payload = serde_json::to_vec(value)
        .map_err(|err| Error::internal(format!("cannot encode a document: {err}")))?;
    Ok(seal(payload))
}

fn seal(payload: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 4);
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

fn unseal<'a>(key: &[u8], bytes: &'a [u8]) -> Result<&'a [u8]> {
    if bytes.len() < 4 {
        return Err(corrupted_key(key, "value shorter than its checksum"));
    }
    let (crc, payload) = bytes.split_at(4);
    let expected = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if crc32fast::hash(payload) != expected {
        return Err(corrupted_key(key, "checksum mismatch"));
    }
    Ok(payload)
}

fn corrupted_key(key: &[u8], what: &str) -> Error {
    Error::corrupted(format!("record {} is damaged: {what}", keys::display(key)))
}

/// Decode a record written by [`encode`].
pub fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T> {
    let payload = unseal(key, bytes)?;
    bincode_options()
        .deserialize(payload)
        .map_err(|err| corrupted_key(key, &format!("undecodable: {err}")))
}

/// Decode a document written by [`encode_json`].
pub fn decode_json<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T> {
    let payload = unseal(key, bytes)?;
    // Checked like any JSON from outside: a document may have come in through a backup.
    let value = crate::json::from_slice(payload)
        .map_err(|err| corrupted_key(key, &format!("undecodable: {err}")))?;
    serde_json::from_value(value).map_err(|err| corrupted_key(key, &format!("undecodable: {err}")))
}

/// Check a sealed value without decoding it (used by backup, restore and `check`).
pub fn verify_sealed(key: &[u8], bytes: &[u8]) -> Result<()> {
    unseal(key, bytes).map(|_| ())
}

/// Read access to the key space: point reads and bounded scans.
pub trait Reader {
    /// Raw sealed value of a key.
    fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Raw sealed pairs in `[start, end)`.
    fn scan_raw(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>>;

    /// Typed point read of a record.
    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>>
    where
        Self: Sized,
    {
        match self.get_raw(key)? {
            Some(bytes) => decode(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Typed point read of a JSON document.
    fn get_json<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>>
    where
        Self: Sized,
    {
        match self.get_raw(key)? {
            Some(bytes) => decode_json(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Typed scan of every record under a prefix, at most `limit`.
    fn scan_prefix<T: DeserializeOwned>(
        &self,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, T)>>
    where
        Self: Sized,
    {
        let end = keys::prefix_end(prefix);
        self.scan_range(prefix, &end, limit, false)
    }

    /// Typed scan of `[start, end)`.
    fn scan_range<T: DeserializeOwned>(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<(Vec<u8>, T)>>
    where
        Self: Sized,
    {
        let pairs = self.scan_raw(start, end, limit, reverse)?;
        let mut out = Vec::with_capacity(pairs.len());
        for (key, bytes) in pairs {
            let value = decode(&key, &bytes)?;
            out.push((key, value));
        }
        Ok(out)
    }

    /// Keys only under a prefix (values are checked, not decoded).
    fn scan_keys(&self, prefix: &[u8], limit: usize) -> Result<Vec<Vec<u8>>>
    where
        Self: Sized,
    {
        let end = keys::prefix_end(prefix);
        let pairs = self.scan_raw(prefix, &end, limit, false)?;
        let mut out = Vec::with_capacity(pairs.len());
        for (key, bytes) in pairs {
            verify_sealed(&key, &bytes)?;
            out.push(key);
        }
        Ok(out)
    }

    /// Whether a key exists.
    fn contains(&self, key: &[u8]) -> Result<bool>
    where
        Self: Sized,
    {
        Ok(self.get_raw(key)?.is_some())
    }
}

/// Durability of acknowledged writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every acknowledged write survives `kill -9` and power loss (group commit).
    Durable,
    /// Bulk loading: writes are synced only by [`Store::sync_now`] (and at close).
    Import,
}

#[derive(Debug)]
struct CommitState {
    applied_seq: u64,
    durable_seq: u64,
    syncing: bool,
    failure: Option<Error>,
}

/// The store: a backend plus encoding, sequencing and group commit.
pub struct Store {
    backend: Box<dyn Backend>,
    commit: Mutex<CommitState>,
    commit_changed: Condvar,
    durability: Durability,
    /// Bytes of keys and values in every batch applied by this process (diagnostics: the
    /// bench compares what reaches the disk per commit with the batch's own size).
    applied_bytes: AtomicU64,
}

impl Store {
    /// Wrap an opened backend whose last applied sequence is `applied_seq`.
    pub fn new(backend: Box<dyn Backend>, applied_seq: u64, durability: Durability) -> Store {
        Store {
            backend,
            commit: Mutex::new(CommitState {
                applied_seq,
                durable_seq: applied_seq,
                syncing: false,
                failure: None,
            }),
            commit_changed: Condvar::new(),
            durability,
            applied_bytes: AtomicU64::new(0),
        }
    }

    /// The backend (for backup and diagnostics).
    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// A consistent read view: it sees no batch applied after it began.
    pub fn read(&self) -> Result<ReadTxn<'_>> {
        Ok(ReadTxn {
            view: self.backend.snapshot()?,
        })
    }

    /// A read view for long reads (reports over the whole base): each point read and each
    /// bounded scan sees whole batches, but two calls may see different states. Holding
    /// [`Store::read`] through a report of many seconds would hold every commit back
    /// for as long (sled) or keep a database snapshot open (PostgreSQL); this view lets
    /// commits in between its calls.
    pub fn read_stepwise(&self) -> Result<SteppedRead<'_>> {
        Ok(SteppedRead {
            view: self.backend.stepwise()?,
        })
    }

    /// A write transaction: waits until this caller is the store's one writer (in every
    /// process that shares it), which it stays until the transaction commits or drops.
    pub fn write(&self) -> Result<WriteTxn<'_>> {
        self.check_healthy()?;
        Ok(WriteTxn::new(self, self.backend.begin_write()?))
    }

    /// A write transaction that, on a shared store, locks only the customers and keys it
    /// touches ([`lock_scope`]). It fails with a conflict ([`is_conflict`]) when it
    /// would wait in a cycle, or when it reads a range no key lock covers; the caller
    /// runs it again, in the second case with [`Store::write`]. On sled it is
    /// [`Store::write`].
    pub fn write_scoped(&self) -> Result<WriteTxn<'_>> {
        self.check_healthy()?;
        Ok(WriteTxn::new(self, self.backend.begin_scoped_write()?))
    }

    fn lock_commit(&self) -> MutexGuard<'_, CommitState> {
        self.commit
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Fails if an earlier sync failed: the process can no longer promise durability.
    pub fn check_healthy(&self) -> Result<()> {
        match &self.lock_commit().failure {
            Some(failure) => Err(failure.clone()),
            None => Ok(()),
        }
    }

    fn apply(&self, mut view: Box<dyn WriteView + '_>, mut batch: WriteBatch) -> Result<u64> {
        // The batch sequence orders one process's batches for group commit and the
        // lost-tail check. Writers sharing a store commit on their own, and one counter
        // that every batch wrote would make every two of them wait for each other: there
        // the number is this process's own, taken once the batch is applied.
        let stored_seq = if self.backend.shared() {
            None
        } else {
            let seq_key = keys::meta(keys::META_SEQ);
            let current: u64 = match view.get(&seq_key)? {
                Some(bytes) => decode(&seq_key, &bytes)?,
                None => return Err(Error::corrupted("the store has lost its sequence number")),
            };
            batch.insert(seq_key, Some(encode(&(current + 1))?));
            Some(current + 1)
        };
        let mut batch_bytes = 0;
        for (key, value) in &batch {
            let value_len = value.as_ref().map_or(0, Vec::len);
            if value_len > VALUE_BYTES_MAX {
                return Err(Error::too_large(&keys::display(key), VALUE_BYTES_MAX));
            }
            batch_bytes += key.len() + value_len;
        }
        view.apply(&batch)?;
        self.applied_bytes
            .fetch_add(batch_bytes as u64, Ordering::Relaxed);
        let mut state = self.lock_commit();
        let seq = state.applied_seq + 1;
        assert!(
            stored_seq.is_none_or(|stored| stored == seq),
            "batches are applied one at a time by the one writer"
        );
        state.applied_seq = seq;
        drop(state);
        // Only now may the next writer begin.
        drop(view);
        Ok(seq)
    }

    /// Group commit: returns once batch `seq` is durable. One waiter syncs for all.
    pub fn wait_durable(&self, seq: u64) -> Result<()> {
        if self.durability == Durability::Import || self.backend.durable_on_apply() {
            return self.check_healthy();
        }
        let mut state = self.lock_commit();
        loop {
            if let Some(failure) = &state.failure {
                return Err(failure.clone());
            }
            if state.durable_seq >= seq {
                return Ok(());
            }
            if state.syncing {
                state = self
                    .commit_changed
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                continue;
            }
            state.syncing = true;
            let target = state.applied_seq;
            drop(state);
            let outcome = self
                .backend
                .sync()
                .and_then(|()| self.backend.record_durable_seq(target));
            state = self.lock_commit();
            state.syncing = false;
            match outcome {
                Ok(()) => state.durable_seq = state.durable_seq.max(target),
                Err(err) => {
                    state.failure = Some(Error::new(
                        err.code,
                        format!(
                            "the store could not be synced and refuses further writes: {}",
                            err.message
                        ),
                    ))
                }
            }
            self.commit_changed.notify_all();
        }
    }

    /// Sync everything applied so far (end of an import, close, backup).
    pub fn sync_now(&self) -> Result<()> {
        let target = self.lock_commit().applied_seq;
        self.backend.sync()?;
        self.backend.record_durable_seq(target)?;
        let mut state = self.lock_commit();
        state.durable_seq = state.durable_seq.max(target);
        Ok(())
    }

    /// Bytes of keys and values in the batches this process applied (diagnostics).
    pub fn applied_bytes(&self) -> u64 {
        self.applied_bytes.load(Ordering::Relaxed)
    }

    /// Sequence number of the last batch this process applied.
    pub fn applied_seq(&self) -> u64 {
        self.lock_commit().applied_seq
    }

    /// Sequence number of the last batch applied to the store by any process.
    pub fn current_seq(&self) -> Result<u64> {
        let seq_key = keys::meta(keys::META_SEQ);
        self.read()?
            .get(&seq_key)?
            .ok_or_else(|| Error::corrupted("the store has lost its sequence number"))
    }
}

/// A consistent read-only view.
pub struct ReadTxn<'a> {
    view: Box<dyn View + 'a>,
}

impl Reader for ReadTxn<'_> {
    fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.view.get(key)
    }

    fn scan_raw(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>> {
        self.view.scan(start, end, limit, reverse)
    }
}

/// See [`Store::read_stepwise`]: each call sees whole batches, the view as a whole does not.
pub struct SteppedRead<'a> {
    view: Box<dyn View + 'a>,
}

impl Reader for SteppedRead<'_> {
    fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.view.get(key)
    }

    fn scan_raw(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>> {
        self.view.scan(start, end, limit, reverse)
    }
}

/// Whether an error is a conflict between writers of a shared store: nothing was
/// changed and the operation may simply run again (`details.conflict`).
pub fn is_conflict(err: &Error) -> bool {
    err.code == ErrorCode::Unavailable && err.details.get("conflict").is_some()
}

/// Whether a conflict says the operation needs the whole store ([`Store::write`]).
pub fn needs_whole_store(err: &Error) -> bool {
    is_conflict(err) && err.details["conflict"] == "whole_store"
}

/// Where a store lives, as the doors accept it: a sled directory, or a PostgreSQL
/// connection string (`postgresql://user@host:5432/shop`, or `host=… dbname=…`).
pub(crate) enum Location<'a> {
    Sled(&'a std::path::Path),
    Postgres(&'a str),
}

impl Location<'_> {
    pub(crate) fn of(store: &std::path::Path) -> Location<'_> {
        match store.to_str() {
            Some(text) if postgres_backend::is_connection_string(text) => Location::Postgres(text),
            _ => Location::Sled(store),
        }
    }
}

/// Open the backend of a store, creating the store when there is none yet. Returns the
/// backend and how messages name the store.
pub fn open_backend(
    store: &std::path::Path,
    sled_options: &sled_backend::SledOptions,
) -> Result<(Box<dyn Backend>, String)> {
    match Location::of(store) {
        Location::Postgres(connection) => {
            let (backend, _created) = postgres_backend::PostgresBackend::open(connection)?;
            let label = backend.label().to_string();
            Ok((Box::new(backend), label))
        }
        Location::Sled(path) => {
            let (backend, _created) = sled_backend::SledBackend::open(path, sled_options)?;
            Ok((
                Box::new(local::Local::new(backend)),
                path.display().to_string(),
            ))
        }
    }
}

/// Whether a store was created at `store`. For PostgreSQL: whether the database holds
/// one (an unreachable server counts as no; opening it then says why).
pub fn exists(store: &std::path::Path) -> bool {
    match Location::of(store) {
        Location::Sled(path) => sled_backend::exists(path),
        Location::Postgres(connection) => {
            postgres_backend::PostgresBackend::exists(connection).unwrap_or(false)
        }
    }
}

/// Whether `store` is a PostgreSQL connection string (a store processes share).
pub fn is_shared(store: &std::path::Path) -> bool {
    matches!(Location::of(store), Location::Postgres(_))
}

/// Remove a store: a sled directory (see [`sled_backend::remove`]). A PostgreSQL store is
/// never removed by Pitstop: dropping a database is its administrator's decision.
pub fn remove(store: &std::path::Path) -> Result<()> {
    match Location::of(store) {
        Location::Sled(path) => sled_backend::remove(path),
        Location::Postgres(connection) => Err(Error::invalid(
            "store",
            format!(
                "{} is a PostgreSQL store: Pitstop does not drop databases; its administrator does",
                postgres_backend::describe(connection)
            ),
        )),
    }
}

/// How messages name a store: the directory, or the server and database without the
/// password.
pub fn describe(store: &std::path::Path) -> String {
    match Location::of(store) {
        Location::Sled(path) => path.display().to_string(),
        Location::Postgres(connection) => postgres_backend::describe(connection),
    }
}

/// Map a poisoned or missing state to a clean error (used by backends).
pub(crate) fn io_error(context: &str, err: std::io::Error) -> Error {
    Error::io(context, err)
}

/// The error for a store that another handle holds.
pub(crate) fn locked_error(path: &std::path::Path) -> Error {
    Error::new(
        ErrorCode::Locked,
        format!(
            "the store at {} is already open in another process or handle; a sled store serves one process, so a store shared by several tills, 1C worker processes or branches needs PostgreSQL (open it with a postgresql:// connection string)",
            path.display()
        ),
    )
    .with_details(serde_json::json!({ "path": path.display().to_string() }))
}
