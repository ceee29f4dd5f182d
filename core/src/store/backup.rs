//! Backup and restore: a self-checking file with every record of the store.
//!
//! sled 0.34 has no online backup and its on-disk format may change, so a backup is a
//! logical export independent of the backend:
//!
//! ```text
//! "PITSTOP-BACKUP\n"  u32 format version
//! { u32 key length, key, u32 value length, sealed value } *
//! u32 0xFFFF_FFFF     u64 record count     [32] sha256 of every byte before it
//! ```
//!
//! The export is taken under the store's read view, so it is one consistent state
//! even while other threads (or processes) commit. A backup restores into either
//! backend, and [`copy`] moves a live store from one backend to the other. Every value's checksum is verified on the way out
//! and again on the way in; a restore verifies the whole file before creating anything.

use super::local::Local;
use super::postgres_backend::PostgresBackend;
use super::sled_backend::{SledBackend, SledOptions};
use super::{Backend, Location, Pair, Reader, Store, WriteBatch, io_error, keys, verify_sealed};
use crate::error::{Error, ErrorCode, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"PITSTOP-BACKUP\n";
const END_MARK: u32 = u32::MAX;
const SCAN_CHUNK: usize = 4096;
const KEY_BYTES_MAX: usize = 4096;

/// What a backup or restore did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BackupSummary {
    /// Records copied.
    pub records: u64,
    /// Size of the backup file in bytes.
    pub bytes: u64,
    /// Hex sha256 of the file body.
    pub sha256: String,
    /// Sequence number of the last batch the backup contains.
    pub seq: u64,
}

struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hasher.update(bytes);
        self.written += bytes.len() as u64;
        self.inner.write_all(bytes)
    }
}

/// Write a consistent backup of `store` to `dest` (replaced atomically when complete).
pub fn backup(store: &Store, dest: &Path) -> Result<BackupSummary> {
    let mut temp_name = dest.as_os_str().to_os_string();
    temp_name.push(".partial");
    let temp = PathBuf::from(temp_name);
    let file = File::create(&temp)
        .map_err(|err| io_error(&format!("creating {}", temp.display()), err))?;
    let result = write_backup(store, file);
    match result {
        Ok(summary) => {
            fs::rename(&temp, dest)
                .map_err(|err| io_error(&format!("moving backup to {}", dest.display()), err))?;
            if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
                super::fsync::sync_dir(parent)
                    .map_err(|err| io_error("syncing backup dir", err))?;
            }
            Ok(summary)
        }
        Err(err) => {
            let _ = fs::remove_file(&temp);
            Err(err)
        }
    }
}

fn write_backup(store: &Store, file: File) -> Result<BackupSummary> {
    let io = |err| io_error("writing backup", err);
    let mut out = HashingWriter {
        inner: BufWriter::new(file),
        hasher: Sha256::new(),
        written: 0,
    };
    out.put(MAGIC).map_err(io)?;
    out.put(&super::FORMAT_VERSION.to_le_bytes()).map_err(io)?;
    let view = store.read()?;
    let mut seq = 0u64;
    let mut records = 0u64;
    let mut all =
        Records::new(|start: &[u8], end: &[u8]| view.scan_raw(start, end, SCAN_CHUNK, false));
    while let Some((key, value)) = all.next()? {
        verify_sealed(&key, &value)?;
        if key == keys::meta(keys::META_SEQ) {
            seq = super::decode(&key, &value)?;
        }
        out.put(&(key.len() as u32).to_le_bytes()).map_err(io)?;
        out.put(&key).map_err(io)?;
        out.put(&(value.len() as u32).to_le_bytes()).map_err(io)?;
        out.put(&value).map_err(io)?;
        records += 1;
    }
    drop(all);
    drop(view);
    out.put(&END_MARK.to_le_bytes()).map_err(io)?;
    out.put(&records.to_le_bytes()).map_err(io)?;
    let digest = out.hasher.clone().finalize();
    out.inner.write_all(&digest).map_err(io)?;
    let bytes = out.written + digest.len() as u64;
    let file = out
        .inner
        .into_inner()
        .map_err(|err| io_error("writing backup", err.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok(BackupSummary {
        records,
        bytes,
        sha256: hex(&digest),
        seq,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn bad_backup(path: &Path, what: &str) -> Error {
    Error::corrupted(format!("backup {} is damaged: {what}", path.display()))
        .with_details(serde_json::json!({ "path": path.display().to_string() }))
}

/// Reads the records of a backup file, hashing as it goes.
struct BackupReader {
    inner: BufReader<File>,
    hasher: Sha256,
    path: PathBuf,
}

impl BackupReader {
    fn open(path: &Path) -> Result<BackupReader> {
        let file = File::open(path).map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => Error::not_found("backup file", path.display()),
            _ => io_error(&format!("opening {}", path.display()), err),
        })?;
        let mut reader = BackupReader {
            inner: BufReader::new(file),
            hasher: Sha256::new(),
            path: path.to_path_buf(),
        };
        let mut magic = vec![0u8; MAGIC.len()];
        reader.read_exact(&mut magic)?;
        if magic != MAGIC {
            return Err(bad_backup(path, "not a Pitstop backup"));
        }
        let version = reader.read_u32()?;
        if version == 0 {
            return Err(bad_backup(path, "format version 0"));
        }
        if version > super::FORMAT_VERSION {
            return Err(Error::new(
                ErrorCode::UnsupportedVersion,
                format!(
                    "backup {} has format {version}; this build reads up to {}",
                    path.display(),
                    super::FORMAT_VERSION
                ),
            ));
        }
        Ok(reader)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<()> {
        self.inner
            .read_exact(buf)
            .map_err(|_| bad_backup(&self.path, "truncated"))?;
        self.hasher.update(&*buf);
        Ok(())
    }

    fn read_u32(&mut self) -> Result<u32> {
        let mut buf = [0u8; 4];
        self.read_exact(&mut buf)?;
        Ok(u32::from_le_bytes(buf))
    }

    /// Next record, or `None` at the end mark.
    fn next_record(&mut self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let key_len = self.read_u32()?;
        if key_len == END_MARK {
            return Ok(None);
        }
        if key_len as usize > KEY_BYTES_MAX {
            return Err(bad_backup(&self.path, "key length out of range"));
        }
        let mut key = vec![0u8; key_len as usize];
        self.read_exact(&mut key)?;
        let value_len = self.read_u32()? as usize;
        if value_len > super::VALUE_BYTES_MAX + 16 {
            return Err(bad_backup(&self.path, "value length out of range"));
        }
        let mut value = vec![0u8; value_len];
        self.read_exact(&mut value)?;
        verify_sealed(&key, &value)
            .map_err(|_| bad_backup(&self.path, "a record fails its checksum"))?;
        Ok(Some((key, value)))
    }

    /// Read the trailer and check count and digest.
    fn finish(mut self, records: u64) -> Result<String> {
        let mut count = [0u8; 8];
        self.read_exact(&mut count)?;
        if u64::from_le_bytes(count) != records {
            return Err(bad_backup(&self.path, "record count does not match"));
        }
        let expected = self.hasher.clone().finalize();
        let mut digest = [0u8; 32];
        self.inner
            .read_exact(&mut digest)
            .map_err(|_| bad_backup(&self.path, "truncated"))?;
        if digest.as_slice() != expected.as_slice() {
            return Err(bad_backup(&self.path, "sha256 does not match"));
        }
        let mut rest = [0u8; 1];
        if self
            .inner
            .read(&mut rest)
            .map_err(|err| io_error("reading backup", err))?
            != 0
        {
            return Err(bad_backup(&self.path, "trailing bytes after the checksum"));
        }
        Ok(hex(&digest))
    }
}

/// Checks one record of a backup before it is trusted: the JSON documents (programme
/// versions, segments, plugin records) are checked the way a request is. The store does
/// not know those types; the engine, which does, passes the check in.
pub type DocumentCheck = fn(key: &[u8], value: &[u8]) -> Result<()>;

/// Verify a backup file completely without restoring it.
pub fn verify(backup_path: &Path, check_document: DocumentCheck) -> Result<BackupSummary> {
    let mut reader = BackupReader::open(backup_path)?;
    let mut records = 0u64;
    let mut seq = 0u64;
    while let Some((key, value)) = reader.next_record()? {
        if key == keys::meta(keys::META_SEQ) {
            seq = super::decode(&key, &value)?;
        }
        check_document(&key, &value).map_err(|err| bad_backup(backup_path, &err.message))?;
        records += 1;
    }
    let sha256 = reader.finish(records)?;
    let bytes = fs::metadata(backup_path)
        .map_err(|err| io_error("reading backup size", err))?
        .len();
    Ok(BackupSummary {
        records,
        bytes,
        sha256,
        seq,
    })
}

/// Restore a backup into a new store: a sled directory that must not exist, or a
/// PostgreSQL database (or schema) that must be empty or hold an empty store.
pub fn restore(
    backup_path: &Path,
    store: &Path,
    options: &SledOptions,
    check_document: DocumentCheck,
) -> Result<BackupSummary> {
    let summary = match Location::of(store) {
        Location::Sled(path) if path.exists() => {
            return Err(already_exists(&path.display().to_string(), "restore"));
        }
        _ => verify(backup_path, check_document)?,
    };
    let mut reader = BackupReader::open(backup_path)?;
    let mut records = 0u64;
    load_new_store(store, options, summary.seq, &mut || {
        let record = reader.next_record()?;
        records += u64::from(record.is_some());
        Ok(record)
    })?;
    reader.finish(records)?;
    Ok(summary)
}

/// Copy every record of `source` (one consistent view) into a new store at `dest`,
/// with the rules of [`restore`] for the destination, then read the destination back
/// and compare: the same records, byte for byte (`corrupted` otherwise). Returns the
/// records copied and their sha256.
pub fn copy(source: &Store, dest: &Path, options: &SledOptions) -> Result<BackupSummary> {
    if let Location::Sled(path) = Location::of(dest)
        && path.exists()
    {
        return Err(already_exists(&path.display().to_string(), "copy"));
    }
    let view = source.read()?;
    // The sequence of the view being copied, not of a later state of the store.
    let seq_key = keys::meta(keys::META_SEQ);
    let seq: u64 = view
        .get(&seq_key)?
        .ok_or_else(|| Error::corrupted("the store has lost its sequence number"))?;
    let mut all =
        Records::new(|start: &[u8], end: &[u8]| view.scan_raw(start, end, SCAN_CHUNK, false));
    let mut records = 0u64;
    let mut hasher = Sha256::new();
    load_new_store(dest, options, seq, &mut || {
        let Some((key, value)) = all.next()? else {
            return Ok(None);
        };
        verify_sealed(&key, &value)?;
        hasher.update(&key);
        hasher.update(&value);
        records += 1;
        Ok(Some((key, value)))
    })?;
    drop(all);
    drop(view);
    let sha256 = hex(&hasher.finalize());
    let (backend, label) = super::open_backend(dest, options)?;
    let (copied, copied_sha256) = digest(backend.as_ref())?;
    if copied != records || copied_sha256 != sha256 {
        return Err(Error::corrupted(format!(
            "the copy at {label} does not hold what was copied: {copied} records (sha256 {copied_sha256}), {records} sent (sha256 {sha256})"
        )));
    }
    Ok(BackupSummary {
        records,
        bytes: 0,
        sha256,
        seq,
    })
}

/// Every record of a store, read back in key order: their number and the sha256 of
/// keys and values (what [`copy`] compares between source and destination).
fn digest(backend: &dyn Backend) -> Result<(u64, String)> {
    let view = backend.snapshot()?;
    let mut hasher = Sha256::new();
    let mut records = 0u64;
    let mut all = Records::new(|start: &[u8], end: &[u8]| view.scan(start, end, SCAN_CHUNK, false));
    while let Some((key, value)) = all.next()? {
        hasher.update(&key);
        hasher.update(&value);
        records += 1;
    }
    Ok((records, hex(&hasher.finalize())))
}

/// Every record of a view in key order, read `SCAN_CHUNK` at a time (backup, copy and
/// the copy's check all walk a whole store).
struct Records<S> {
    scan: S,
    start: Vec<u8>,
    pending: std::vec::IntoIter<Pair>,
    done: bool,
}

/// Past every key a store holds: keys are at most `KEY_BYTES_MAX` bytes.
const PAST_EVERY_KEY: [u8; KEY_BYTES_MAX] = [0xff; KEY_BYTES_MAX];

impl<S: FnMut(&[u8], &[u8]) -> Result<Vec<Pair>>> Records<S> {
    fn new(scan: S) -> Records<S> {
        Records {
            scan,
            start: Vec::new(),
            pending: Vec::new().into_iter(),
            done: false,
        }
    }

    fn next(&mut self) -> Result<Option<Pair>> {
        if self.pending.len() == 0 && !self.done {
            let chunk = (self.scan)(&self.start, &PAST_EVERY_KEY)?;
            match chunk.last() {
                Some((last, _)) => {
                    self.start = last.clone();
                    self.start.push(0);
                }
                None => self.done = true,
            }
            self.pending = chunk.into_iter();
        }
        Ok(self.pending.next())
    }
}

fn already_exists(store: &str, doing: &str) -> Error {
    Error::new(
        ErrorCode::AlreadyExists,
        format!("{store} already exists; {doing} only into a new path"),
    )
    .with_details(serde_json::json!({ "path": store }))
}

/// The records of a store being made: `None` after the last.
type RecordSource<'a> = dyn FnMut() -> Result<Option<(Vec<u8>, Vec<u8>)>> + 'a;

/// Make a new store at `dest` holding exactly the records `next` gives. A sled store is
/// built beside its path and renamed into place when complete. A PostgreSQL store is
/// loaded in place, in batches: its format record is removed by the first batch and
/// written by the last, so a load cut short leaves a store that refuses to open
/// ("no format version") instead of one that is silently partial.
fn load_new_store(
    dest: &Path,
    options: &SledOptions,
    seq: u64,
    next: &mut RecordSource<'_>,
) -> Result<()> {
    match Location::of(dest) {
        Location::Postgres(connection) => {
            let (backend, _) = PostgresBackend::open(connection)?;
            refuse_unless_empty(&backend, backend.label())?;
            load_records(&backend, seq, next)
        }
        Location::Sled(path) => {
            let mut side_name = path.as_os_str().to_os_string();
            side_name.push(".pitstop-restoring");
            let side = PathBuf::from(side_name);
            if side.exists() {
                fs::remove_dir_all(&side)
                    .map_err(|err| io_error(&format!("removing {}", side.display()), err))?;
            }
            let outcome = SledBackend::open(&side, options)
                .and_then(|(backend, _)| load_records(&Local::new(backend), seq, next));
            if outcome.is_err() {
                let _ = fs::remove_dir_all(&side);
            }
            outcome?;
            fs::rename(&side, path).map_err(|err| {
                io_error(&format!("moving the new store to {}", path.display()), err)
            })?;
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                super::fsync::sync_dir(parent)
                    .map_err(|err| io_error("syncing the store's directory", err))?;
            }
            Ok(())
        }
    }
}

/// A store just created holds its format and sequence records only.
fn refuse_unless_empty(backend: &dyn Backend, label: &str) -> Result<()> {
    let view = backend.snapshot()?;
    let held = view.scan(&[], &PAST_EVERY_KEY, 3, false)?;
    let seq_key = keys::meta(keys::META_SEQ);
    let only_meta = held.iter().all(|(key, _)| {
        *key == keys::meta(keys::META_FORMAT) || *key == seq_key || *key == keys::aggregates_mark()
    });
    if !only_meta {
        return Err(already_exists(label, "restore or copy"));
    }
    Ok(())
}

fn load_records(backend: &dyn Backend, seq: u64, next: &mut RecordSource<'_>) -> Result<()> {
    let format_key = keys::meta(keys::META_FORMAT);
    let mut format = None;
    let mut batch = WriteBatch::new();
    batch.insert(format_key.clone(), None);
    // The restored store's aggregates are the backup's: complete only if it says so.
    batch.insert(keys::aggregates_mark(), None);
    while let Some((key, value)) = next()? {
        if key == format_key {
            format = Some(value);
            continue;
        }
        batch.insert(key, Some(value));
        if batch.len() >= SCAN_CHUNK {
            backend.begin_write()?.apply(&batch)?;
            batch.clear();
        }
    }
    let format = format.ok_or_else(|| Error::corrupted("the records hold no format version"))?;
    batch.insert(format_key, Some(format));
    backend.begin_write()?.apply(&batch)?;
    backend.sync()?;
    backend.record_durable_seq(seq)
}
