//! Storage: the only module that knows how bytes reach the disk.
//!
//! The domain sees an ordered key-value space through [`Reader`] (point reads and
//! bounded range scans) and [`WriteTxn`] (an overlay of writes applied atomically as
//! one batch). A backend implements [`Backend`]; [`sled_backend`] is the only one today.
//! A second backend (PostgreSQL for dealer groups) implements the same trait and must
//! pass the same conformance tests (`store/conformance.rs`).
//!
//! Concurrency model:
//! - writers are serialised by the engine's writer lock, so a write transaction's reads
//!   see a stable state plus its own overlay;
//! - a batch is applied under `apply_lock` (write side); multi-key readers hold the read
//!   side, so a reader never sees half of a batch;
//! - durability is a separate, later step: [`Store::wait_durable`] implements group
//!   commit — one committer syncs, every committer whose batch was applied before that
//!   sync began is acknowledged by it.
//!
//! Every stored value is `crc32(payload) ++ payload`, payload being bincode (records) or
//! JSON (documents). A checksum mismatch is `corrupted`, never a wrong figure.

pub mod backup;
#[cfg(test)]
mod conformance;
pub(crate) mod fsync;
pub mod keys;
pub mod sled_backend;

use crate::error::{Error, ErrorCode, Result};
use bincode::Options as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard};

/// Format version written at creation and checked at open.
pub const FORMAT_VERSION: u32 = 1;

/// Largest value the store accepts, so no record ever spills into sled's unsynced blobs.
pub const VALUE_BYTES_MAX: usize = 256 * 1024;

/// One atomic set of writes: `None` deletes the key.
pub type WriteBatch = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A key-value pair returned by a scan.
pub type Pair = (Vec<u8>, Vec<u8>);

/// What a storage backend must provide. Everything is raw bytes; encoding,
/// checksums, snapshots and group commit live in [`Store`] above it.
pub trait Backend: Send + Sync {
    /// Point read.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Keys in `[start, end)` in order (or reverse order), at most `limit` of them.
    fn scan(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>>;
    /// Apply every write of the batch atomically: after a crash all or none are present.
    fn apply(&self, batch: &WriteBatch) -> Result<()>;
    /// Make every applied batch durable (survives power loss) before returning.
    fn sync(&self) -> Result<()>;
    /// Bytes the backend occupies on disk.
    fn size_on_disk(&self) -> Result<u64>;
    /// Record that batches up to `seq` are durable (a hint used to detect lost tails).
    fn record_durable_seq(&self, seq: u64) -> Result<()>;
    /// The highest sequence ever recorded durable, if known.
    fn recorded_durable_seq(&self) -> Result<Option<u64>>;
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

/// The store: a backend plus snapshots, sequencing and group commit.
pub struct Store {
    backend: Box<dyn Backend>,
    apply_lock: RwLock<()>,
    commit: Mutex<CommitState>,
    commit_changed: Condvar,
    durability: Durability,
}

impl Store {
    /// Wrap an opened backend whose last applied sequence is `applied_seq`.
    pub fn new(backend: Box<dyn Backend>, applied_seq: u64, durability: Durability) -> Store {
        Store {
            backend,
            apply_lock: RwLock::new(()),
            commit: Mutex::new(CommitState {
                applied_seq,
                durable_seq: applied_seq,
                syncing: false,
                failure: None,
            }),
            commit_changed: Condvar::new(),
            durability,
        }
    }

    /// The backend (for backup and diagnostics).
    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// A consistent read view: no batch is applied while it lives.
    pub fn read(&self) -> ReadTxn<'_> {
        let guard = self
            .apply_lock
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        ReadTxn {
            store: self,
            _guard: guard,
        }
    }

    /// A read view for long reads (reports over the whole base): each point read and each
    /// bounded scan sees whole batches, but two calls may see different states. Holding
    /// [`Store::read`] through a report of many seconds would hold every commit back
    /// for as long; this view lets commits in between its calls.
    pub fn read_stepwise(&self) -> SteppedRead<'_> {
        SteppedRead { store: self }
    }

    /// A write transaction. The caller must hold the engine's writer lock.
    pub fn write(&self) -> WriteTxn<'_> {
        WriteTxn {
            store: self,
            writes: BTreeMap::new(),
        }
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

    fn apply(&self, mut batch: WriteBatch) -> Result<u64> {
        self.check_healthy()?;
        let seq = self.lock_commit().applied_seq + 1;
        batch.insert(keys::meta(keys::META_SEQ), Some(encode(&seq)?));
        for (key, value) in &batch {
            if let Some(value) = value
                && value.len() > VALUE_BYTES_MAX
            {
                return Err(Error::too_large(&keys::display(key), VALUE_BYTES_MAX));
            }
        }
        {
            let _guard = self
                .apply_lock
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            self.backend.apply(&batch)?;
        }
        let mut state = self.lock_commit();
        assert!(
            seq == state.applied_seq + 1,
            "batches are applied one at a time under the writer lock"
        );
        state.applied_seq = seq;
        Ok(seq)
    }

    /// Group commit: returns once batch `seq` is durable. One waiter syncs for all.
    pub fn wait_durable(&self, seq: u64) -> Result<()> {
        if self.durability == Durability::Import {
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

    /// Sequence number of the last applied batch.
    pub fn applied_seq(&self) -> u64 {
        self.lock_commit().applied_seq
    }
}

/// A consistent read-only view.
pub struct ReadTxn<'a> {
    store: &'a Store,
    _guard: RwLockReadGuard<'a, ()>,
}

impl Reader for ReadTxn<'_> {
    fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.store.backend.get(key)
    }

    fn scan_raw(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>> {
        self.store.backend.scan(start, end, limit, reverse)
    }
}

/// See [`Store::read_stepwise`]: the apply lock is taken for each call, not for the view.
pub struct SteppedRead<'a> {
    store: &'a Store,
}

impl SteppedRead<'_> {
    fn guard(&self) -> RwLockReadGuard<'_, ()> {
        self.store
            .apply_lock
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Reader for SteppedRead<'_> {
    fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let _guard = self.guard();
        self.store.backend.get(key)
    }

    fn scan_raw(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>> {
        let _guard = self.guard();
        self.store.backend.scan(start, end, limit, reverse)
    }
}

/// Writes buffered over the store, applied as one atomic batch by [`WriteTxn::commit`].
pub struct WriteTxn<'a> {
    store: &'a Store,
    writes: WriteBatch,
}

impl WriteTxn<'_> {
    /// Buffer a record.
    pub fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<()> {
        let bytes = encode(value)?;
        self.writes.insert(key, Some(bytes));
        Ok(())
    }

    /// Buffer a JSON document.
    pub fn put_json<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<()> {
        let bytes = encode_json(value)?;
        self.writes.insert(key, Some(bytes));
        Ok(())
    }

    /// Buffer an already sealed value (the conformance tests write damaged records).
    #[cfg(test)]
    pub fn put_raw(&mut self, key: Vec<u8>, sealed: Vec<u8>) {
        self.writes.insert(key, Some(sealed));
    }

    /// Buffer a deletion.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }

    /// Apply the batch atomically; returns its sequence number (for [`Store::wait_durable`]).
    /// An empty transaction applies nothing and returns the current sequence.
    pub fn commit(self) -> Result<u64> {
        if self.writes.is_empty() {
            return Ok(self.store.applied_seq());
        }
        self.store.apply(self.writes)
    }
}

impl Reader for WriteTxn<'_> {
    fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.writes.get(key) {
            Some(value) => Ok(value.clone()),
            None => self.store.backend.get(key),
        }
    }

    fn scan_raw(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>> {
        let overlay: Vec<(&Vec<u8>, &Option<Vec<u8>>)> =
            self.writes.range(start.to_vec()..end.to_vec()).collect();
        if overlay.is_empty() {
            return self.store.backend.scan(start, end, limit, reverse);
        }
        // Deleted keys may hide backend keys, so ask for enough to still fill `limit`.
        let deletions = overlay.iter().filter(|(_, value)| value.is_none()).count();
        let fetched =
            self.store
                .backend
                .scan(start, end, limit.saturating_add(deletions), reverse)?;
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = fetched.into_iter().collect();
        for (key, value) in overlay {
            match value {
                Some(value) => merged.insert(key.clone(), value.clone()),
                None => merged.remove(key),
            };
        }
        let pairs: Box<dyn Iterator<Item = Pair>> = if reverse {
            Box::new(merged.into_iter().rev())
        } else {
            Box::new(merged.into_iter())
        };
        Ok(pairs.take(limit).collect())
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
            "the store at {} is already open in another process or handle",
            path.display()
        ),
    )
    .with_details(serde_json::json!({ "path": path.display().to_string() }))
}
