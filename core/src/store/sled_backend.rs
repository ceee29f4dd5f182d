//! The sled backend, built around sled 0.34's known limits:
//!
//! - `Db::flush` on Linux ends in `sync_file_range`, which flushes neither the disk cache
//!   nor metadata; [`SledBackend::sync`] follows it with `fdatasync` of the data file, and
//!   of any blob file sled wrote (sled never syncs those).
//! - the background flusher is off (`flush_every_ms(None)`): durability comes only from
//!   explicit syncs, which the store groups (group commit).
//! - a damaged log makes sled stop recovery at the damage and silently drop the rest.
//!   After every durable sync the store's sequence number is written to `pitstop.hwm`;
//!   a store that opens with a lower sequence lost acknowledged writes and is `corrupted`.
//! - sled may panic on damaged files; opening runs under `catch_unwind`.
//! - a store is created in a side directory and renamed into place once initialised, so a
//!   crash during creation never leaves a half-made store at the path.
//! - sled writes a snapshot to `snap.<lsn>.generating` and renames it when complete, but
//!   its reader also picks up `.generating` files: a process killed while writing one
//!   (sled writes snapshots during open too) leaves a store sled then refuses as corrupt.
//!   Such unfinished files are removed before sled opens, under the store's file lock
//!   (see sled issues 1527 and 1533).
//! - sled's flush writes every page a batch touched (37.5 KiB per durable checkout,
//!   issue 15): the store's own batches go to a write-ahead log ([`super::wal`]) as well,
//!   a durable sync is one `fdatasync` of that log, and sled's pages are flushed and
//!   synced only at a checkpoint (when the log passes [`super::wal::WAL_BYTES_MAX`], and
//!   at close). Opening replays what the log holds past sled's `META_SEQ`.

use super::local::LocalKv;
use super::wal::{self, Wal};
use super::{Pair, WriteBatch, fsync, io_error, keys, locked_error};
use crate::error::{Error, ErrorCode, Result};
use std::collections::{BTreeSet, HashSet};
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const HWM_FILE: &str = "pitstop.hwm";
const DATA_FILE: &str = "db";
/// sled's configuration file, written beside the data file when a store is created.
const CONF_FILE: &str = "conf";
const BLOB_DIR: &str = "blobs";

/// sled as a [`LocalKv`] (wrapped in [`super::local::Local`] to make a backend).
pub struct SledBackend {
    db: sled::Db,
    dir: PathBuf,
    data_file: File,
    hwm_file: Mutex<File>,
    synced_blobs: Mutex<HashSet<OsString>>,
    log: Mutex<Log>,
    /// A second handle on the log's file: group commit syncs it without the log's lock.
    log_sync: File,
    /// A batch went to sled without the log (not the next batch of the store's chain:
    /// restore and copy load a new store in chunks): the next sync or logged batch
    /// checkpoints first, so the log never holds a batch that depends on an unsynced one.
    unlogged: AtomicBool,
    /// [`SledOptions::write_ahead_log`].
    logging: bool,
    /// [`SledOptions::log_bytes_max`].
    log_bytes_max: u64,
    // Last: fields drop in order, so the path is released only after sled has closed.
    _registration: Registration,
}

/// The write-ahead log and the last batch of the store's chain it follows.
struct Log {
    wal: Wal,
    /// `META_SEQ` of the last batch applied to sled.
    seq: u64,
}

/// Settings for opening a sled store.
#[derive(Debug, Clone)]
pub struct SledOptions {
    /// Upper bound of sled's page cache in bytes.
    pub cache_capacity_bytes: u64,
    /// Durable syncs go through the write-ahead log (`false`: sled's flush, as before
    /// issue 15). A log left by a crash is replayed either way.
    pub write_ahead_log: bool,
    /// A checkpoint runs when the log holds more than this many bytes.
    pub log_bytes_max: u64,
}

impl Default for SledOptions {
    fn default() -> Self {
        SledOptions {
            cache_capacity_bytes: 64 * 1024 * 1024,
            write_ahead_log: true,
            log_bytes_max: wal::WAL_BYTES_MAX,
        }
    }
}

fn map_sled_error(path: &Path, err: sled::Error) -> Error {
    match err {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            locked_error(path)
        }
        sled::Error::Io(io) => io_error(&format!("store {}", path.display()), io),
        sled::Error::Corruption { at, .. } => Error::corrupted(format!(
            "the store at {} is damaged (sled reports corruption at {at:?})",
            path.display()
        )),
        sled::Error::Unsupported(what) => Error::new(
            ErrorCode::UnsupportedVersion,
            format!("the store at {} is not supported: {what}", path.display()),
        ),
        other => Error::internal(format!("store {}: {other}", path.display())),
    }
}

fn guarded<T>(path: &Path, what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(panic) => {
            let reason = crate::error::panic_text(panic.as_ref());
            Err(Error::corrupted(format!(
                "the store at {} is damaged: {what} failed ({reason})",
                path.display()
            )))
        }
    }
}

fn sync_dir(path: &Path) -> Result<()> {
    fsync::sync_dir(path)
        .map_err(|err| io_error(&format!("syncing directory {}", path.display()), err))
}

/// How long to retry sled's file lock. A lock held by another process persists, but a
/// lock we just released may linger for a moment: the host forking a child copies the
/// descriptor, which keeps the `flock` until the child calls `exec`.
const LOCK_RETRY: Duration = Duration::from_secs(2);

fn open_sled(path: &Path, options: &SledOptions) -> Result<sled::Db> {
    let started = Instant::now();
    loop {
        let outcome = guarded(path, "opening", || {
            sled::Config::new()
                .path(path)
                .cache_capacity(options.cache_capacity_bytes)
                .flush_every_ms(None)
                .mode(sled::Mode::LowSpace)
                .open()
                .map_err(|err| map_sled_error(path, err))
        });
        match outcome {
            Err(err) if err.code == ErrorCode::Locked && started.elapsed() < LOCK_RETRY => {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// Remove the snapshot files sled began and never finished (`snap.*.generating`): sled's
/// rename protocol means they were never part of the store, but its reader would take
/// the newest of them for the current snapshot. Done only while holding the data file's
/// lock (the one sled takes), so a live process's snapshot in the making is never
/// touched; when the lock is busy, nothing is removed and sled reports `locked`.
fn discard_unfinished_snapshots(path: &Path) -> Result<()> {
    let data_path = path.join(DATA_FILE);
    let data = File::open(&data_path)
        .map_err(|err| io_error(&format!("opening {}", data_path.display()), err))?;
    let started = Instant::now();
    loop {
        match data.try_lock() {
            Ok(()) => break,
            Err(fs::TryLockError::WouldBlock) if started.elapsed() < LOCK_RETRY => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(fs::TryLockError::WouldBlock) => return Ok(()),
            Err(fs::TryLockError::Error(err)) => {
                return Err(io_error(&format!("locking {}", data_path.display()), err));
            }
        }
    }
    let entries =
        fs::read_dir(path).map_err(|err| io_error(&format!("listing {}", path.display()), err))?;
    let mut removed = false;
    for entry in entries {
        let entry = entry.map_err(|err| io_error(&format!("listing {}", path.display()), err))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            fs::remove_file(entry.path())
                .map_err(|err| io_error(&format!("removing {}", entry.path().display()), err))?;
            removed = true;
        }
    }
    if removed {
        sync_dir(path)?;
    }
    // Dropping `data` releases the lock for sled to take.
    Ok(())
}

/// Stores open in this process: a second handle gets `locked` at once, without
/// waiting for sled's file lock.
static OPEN_STORES: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// Membership of [`OPEN_STORES`], released when the backend is dropped.
struct Registration(PathBuf);

impl Registration {
    fn claim(path: &Path) -> Result<Registration> {
        let key = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let mut open = OPEN_STORES.lock().unwrap_or_else(|p| p.into_inner());
        if !open.insert(key.clone()) {
            return Err(locked_error(path));
        }
        Ok(Registration(key))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        OPEN_STORES
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.0);
    }
}

/// Whether a store was created at `path`: sled's data file or its configuration file is
/// there. Either one is enough, so a store that lost one of them still counts (opening it
/// then reports what is wrong rather than treating the directory as free).
pub fn exists(path: &Path) -> bool {
    path.join(DATA_FILE).exists() || path.join(CONF_FILE).exists()
}

/// Remove the sled store at `path`: a directory holding both sled's data file and its
/// configuration (the evidence a store leaves), or an empty directory. Anything else is
/// refused with `already_exists`, so a mistyped path never deletes a directory that only
/// looks like one (a web project with a `db` folder, say). A store open in this process
/// is refused with `locked`.
pub fn remove(path: &Path) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let is_store = path.join(DATA_FILE).exists() && path.join(CONF_FILE).exists();
    let is_empty = fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none());
    if !(is_store || is_empty) {
        return Err(Error::new(
            ErrorCode::AlreadyExists,
            format!(
                "{} exists and is not a Pitstop store; refusing to remove it",
                path.display()
            ),
        )
        .with_details(serde_json::json!({ "path": path.display().to_string() })));
    }
    // Held while removing, so no handle of this process opens it meanwhile.
    let _registration = Registration::claim(path)?;
    fs::remove_dir_all(path).map_err(|err| io_error(&format!("removing {}", path.display()), err))
}

impl SledBackend {
    /// Open the store at `path`, creating it when the directory does not exist.
    /// Returns the backend and whether it was created now.
    pub fn open(path: &Path, options: &SledOptions) -> Result<(SledBackend, bool)> {
        let created = if path.exists() {
            let looks_like_a_store = path.join(CONF_FILE).exists() || path.join(HWM_FILE).exists();
            if !path.join(DATA_FILE).exists() && looks_like_a_store {
                return Err(Error::corrupted(format!(
                    "the store at {} has lost its data file",
                    path.display()
                ))
                .with_details(serde_json::json!({ "path": path.display().to_string() })));
            }
            if !path.join(DATA_FILE).exists() {
                return Err(Error::new(
                    ErrorCode::NotFound,
                    format!(
                        "{} exists but is not a Pitstop store (no data file)",
                        path.display()
                    ),
                )
                .with_details(serde_json::json!({ "path": path.display().to_string() })));
            }
            false
        } else {
            create(path, options)?;
            true
        };
        let registration = Registration::claim(path)?;
        if !created {
            discard_unfinished_snapshots(path)?;
        }
        let db = open_sled(path, options)?;
        // Opened to be synced (`sync`): see fsync.rs for why that needs its own open.
        let data_file = fsync::open_for_sync(&path.join(DATA_FILE))
            .map_err(|err| io_error(&format!("opening {}", path.join(DATA_FILE).display()), err))?;
        let store_seq = stored_seq(&db, path)?;
        let wal = Wal::open(path)?;
        let log_sync = wal.sync_handle()?;
        let hwm_path = path.join(HWM_FILE);
        let hwm_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&hwm_path)
            .map_err(|err| io_error(&format!("opening {}", hwm_path.display()), err))?;
        let backend = SledBackend {
            _registration: registration,
            db,
            dir: path.to_path_buf(),
            data_file,
            hwm_file: Mutex::new(hwm_file),
            synced_blobs: Mutex::new(HashSet::new()),
            log: Mutex::new(Log {
                wal,
                seq: store_seq,
            }),
            log_sync,
            unlogged: AtomicBool::new(false),
            logging: options.write_ahead_log,
            log_bytes_max: options.log_bytes_max,
        };
        backend.remember_existing_blobs();
        backend.replay_log()?;
        Ok((backend, created))
    }

    fn lock_log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Apply to sled the batches the log holds past sled's own state (a crash lost sled's
    /// unsynced pages, not the log), then checkpoint so the log starts empty.
    fn replay_log(&self) -> Result<()> {
        let mut log = self.lock_log();
        if log.wal.is_empty() {
            return Ok(());
        }
        let replayed = log.wal.replay(log.seq)?;
        for record in &replayed {
            self.apply_to_sled(&record.batch)?;
            assert_eq!(
                stored_seq(&self.db, &self.dir)?,
                record.seq,
                "a logged batch sets the sequence number it was logged under"
            );
            log.seq = record.seq;
        }
        self.checkpoint(&mut log)
    }

    /// Write and sync sled's pages (everything applied so far), then restart the log:
    /// what it held is durable without it.
    fn checkpoint(&self, log: &mut Log) -> Result<()> {
        self.sync_sled()?;
        self.unlogged.store(false, Ordering::SeqCst);
        log.wal.restart();
        Ok(())
    }

    fn sync_sled(&self) -> Result<()> {
        guarded(&self.dir, "flushing", || {
            self.db
                .flush()
                .map(|_| ())
                .map_err(|err| map_sled_error(&self.dir, err))
        })?;
        self.sync_new_blobs()?;
        self.data_file
            .sync_data()
            .map_err(|err| io_error("fdatasync of the store's data file", err))
    }

    fn apply_to_sled(&self, batch: &WriteBatch) -> Result<()> {
        let mut sled_batch = sled::Batch::default();
        for (key, value) in batch {
            match value {
                Some(value) => sled_batch.insert(key.as_slice(), value.as_slice()),
                None => sled_batch.remove(key.as_slice()),
            }
        }
        guarded(&self.dir, "writing", || {
            self.db
                .apply_batch(sled_batch)
                .map_err(|err| map_sled_error(&self.dir, err))
        })
    }

    fn remember_existing_blobs(&self) {
        if let Ok(entries) = fs::read_dir(self.dir.join(BLOB_DIR)) {
            let mut synced = self.synced_blobs.lock().unwrap_or_else(|p| p.into_inner());
            for entry in entries.flatten() {
                synced.insert(entry.file_name());
            }
        }
    }

    fn sync_new_blobs(&self) -> Result<()> {
        let blob_dir = self.dir.join(BLOB_DIR);
        let entries = match fs::read_dir(&blob_dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(io_error("listing blobs", err)),
        };
        let mut synced = self.synced_blobs.lock().unwrap_or_else(|p| p.into_inner());
        let mut present = HashSet::new();
        let mut any_new = false;
        for entry in entries {
            let entry = entry.map_err(|err| io_error("listing blobs", err))?;
            let name = entry.file_name();
            if !synced.contains(&name) {
                fsync::open_for_sync(&entry.path())
                    .and_then(|file| file.sync_data())
                    .map_err(|err| {
                        io_error(&format!("syncing blob {}", entry.path().display()), err)
                    })?;
                any_new = true;
            }
            present.insert(name);
        }
        if any_new {
            sync_dir(&blob_dir)?;
        }
        *synced = present;
        Ok(())
    }
}

impl Drop for SledBackend {
    /// A clean close: checkpoint and empty the log, so a closed store holds no log.
    /// On a failure the log stays, and the next open replays it.
    fn drop(&mut self) {
        let mut log = self.lock_log();
        let clean = log.wal.used() == 0 && !self.unlogged.load(Ordering::SeqCst);
        if log.wal.is_empty() && clean {
            return;
        }
        if clean || self.checkpoint(&mut log).is_ok() {
            let _ = log.wal.truncate();
        }
    }
}

/// The store's sequence number as sled holds it (0 in a store being created).
fn stored_seq(db: &sled::Db, path: &Path) -> Result<u64> {
    let key = keys::meta(keys::META_SEQ);
    let value = guarded(path, "reading", || {
        db.get(&key).map_err(|err| map_sled_error(path, err))
    })?;
    match value {
        Some(bytes) => super::decode(&key, &bytes),
        None => Ok(0),
    }
}

/// The sequence number a batch sets, if it sets one.
fn batch_seq(batch: &WriteBatch) -> Result<Option<u64>> {
    let key = keys::meta(keys::META_SEQ);
    match batch.get(&key) {
        Some(Some(bytes)) => super::decode(&key, bytes).map(Some),
        _ => Ok(None),
    }
}

fn create(path: &Path, options: &SledOptions) -> Result<()> {
    let name = path.file_name().ok_or_else(|| {
        Error::invalid("path", format!("{} has no directory name", path.display()))
    })?;
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.exists() {
        return Err(Error::not_found("directory", parent.display()));
    }
    let mut side_name = name.to_os_string();
    side_name.push(".pitstop-creating");
    let side = parent.join(side_name);
    if side.exists() {
        fs::remove_dir_all(&side)
            .map_err(|err| io_error(&format!("removing {}", side.display()), err))?;
    }
    fs::create_dir(&side).map_err(|err| io_error(&format!("creating {}", side.display()), err))?;
    {
        let db = open_sled(&side, options)?;
        let mut batch = WriteBatch::new();
        batch.insert(
            keys::meta(keys::META_FORMAT),
            Some(super::encode(&super::FORMAT_VERSION)?),
        );
        batch.insert(keys::meta(keys::META_SEQ), Some(super::encode(&0u64)?));
        let mut sled_batch = sled::Batch::default();
        for (key, value) in &batch {
            if let Some(value) = value {
                sled_batch.insert(key.as_slice(), value.as_slice());
            }
        }
        db.apply_batch(sled_batch)
            .map_err(|err| map_sled_error(&side, err))?;
        db.flush().map_err(|err| map_sled_error(&side, err))?;
        drop(db);
    }
    for entry in fs::read_dir(&side).map_err(|err| io_error("listing new store", err))? {
        let entry = entry.map_err(|err| io_error("listing new store", err))?;
        if entry.path().is_file() {
            fsync::open_for_sync(&entry.path())
                .and_then(|file| file.sync_all())
                .map_err(|err| io_error(&format!("syncing {}", entry.path().display()), err))?;
        }
    }
    sync_dir(&side)?;
    fs::rename(&side, path)
        .map_err(|err| io_error(&format!("moving the new store to {}", path.display()), err))?;
    sync_dir(&parent)
}

impl LocalKv for SledBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        guarded(&self.dir, "reading", || {
            self.db
                .get(key)
                .map(|value| value.map(|v| v.to_vec()))
                .map_err(|err| map_sled_error(&self.dir, err))
        })
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>> {
        if start >= end || limit == 0 {
            return Ok(Vec::new());
        }
        guarded(&self.dir, "scanning", || {
            let range = self.db.range(start..end);
            let iter: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> = if reverse
            {
                Box::new(range.rev())
            } else {
                Box::new(range)
            };
            let mut out = Vec::new();
            for item in iter.take(limit) {
                let (key, value) = item.map_err(|err| map_sled_error(&self.dir, err))?;
                out.push((key.to_vec(), value.to_vec()));
            }
            Ok(out)
        })
    }

    fn apply(&self, batch: &WriteBatch) -> Result<()> {
        if !self.logging {
            return self.apply_to_sled(batch);
        }
        let mut log = self.lock_log();
        let seq = batch_seq(batch)?;
        if seq != Some(log.seq + 1) {
            // Not the next batch of the store's chain: applied without the log.
            self.apply_to_sled(batch)?;
            self.unlogged.store(true, Ordering::SeqCst);
            if let Some(seq) = seq {
                log.seq = seq;
            }
            return Ok(());
        }
        let seq = log.seq + 1;
        if self.unlogged.load(Ordering::SeqCst) || log.wal.used() > self.log_bytes_max {
            self.checkpoint(&mut log)?;
        }
        log.wal.append(seq, batch)?;
        if let Err(err) = self.apply_to_sled(batch) {
            // Best effort: a failed retract leaves a record no sync acknowledged.
            let _ = log.wal.retract(seq, batch);
            return Err(err);
        }
        log.seq = seq;
        Ok(())
    }

    fn sync(&self) -> Result<()> {
        if !self.logging {
            return self.sync_sled();
        }
        if self.unlogged.load(Ordering::SeqCst) {
            let mut log = self.lock_log();
            return self.checkpoint(&mut log);
        }
        wal::sync(&self.log_sync)
    }

    fn size_on_disk(&self) -> Result<u64> {
        fn walk(path: &Path) -> std::io::Result<u64> {
            let mut total = 0;
            for entry in fs::read_dir(path)? {
                let entry = entry?;
                let meta = entry.metadata()?;
                total += if meta.is_dir() {
                    walk(&entry.path())?
                } else {
                    meta.len()
                };
            }
            Ok(total)
        }
        walk(&self.dir).map_err(|err| io_error("measuring the store", err))
    }

    fn record_durable_seq(&self, seq: u64) -> Result<()> {
        let mut record = [0u8; 12];
        record[..8].copy_from_slice(&seq.to_le_bytes());
        record[8..].copy_from_slice(&crc32fast::hash(&seq.to_le_bytes()).to_le_bytes());
        let mut file = self.hwm_file.lock().unwrap_or_else(|p| p.into_inner());
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.write_all(&record))
            .map_err(|err| io_error("writing the high-water mark", err))
    }

    fn recorded_durable_seq(&self) -> Result<Option<u64>> {
        let mut file = self.hwm_file.lock().unwrap_or_else(|p| p.into_inner());
        let mut record = Vec::new();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_end(&mut record))
            .map_err(|err| io_error("reading the high-water mark", err))?;
        if record.len() < 12 {
            // Missing or torn (it is written without fsync): no claim to check against.
            return Ok(None);
        }
        let seq = u64::from_le_bytes(record[..8].try_into().unwrap_or([0; 8]));
        let crc = u32::from_le_bytes(record[8..12].try_into().unwrap_or([0; 4]));
        if crc32fast::hash(&seq.to_le_bytes()) != crc {
            return Ok(None);
        }
        Ok(Some(seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Durability, Reader, Store, local::Local};

    fn open(path: &Path, log_bytes_max: u64) -> Store {
        let options = SledOptions {
            log_bytes_max,
            ..SledOptions::default()
        };
        let (backend, _) = SledBackend::open(path, &options).expect("open");
        let seq = stored_seq(&backend.db, path).expect("seq");
        Store::new(Box::new(Local::new(backend)), seq, Durability::Durable)
    }

    fn key(n: u64) -> Vec<u8> {
        keys::meta(&format!("test-{n:06}"))
    }

    /// What `kill -9` leaves: the files as they are while the store is open.
    fn image(from: &Path, to: &Path) {
        fs::create_dir_all(to).expect("create image");
        for entry in fs::read_dir(from).expect("list") {
            let entry = entry.expect("entry");
            let target = to.join(entry.file_name());
            if entry.file_type().expect("type").is_dir() {
                image(&entry.path(), &target);
            } else {
                fs::copy(entry.path(), &target).expect("copy");
            }
        }
    }

    #[test]
    fn the_log_restarts_at_checkpoints_and_every_crash_image_replays() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("store");
        // About 1 KiB per batch: a checkpoint every ~60 batches, 30 of them in the run.
        let store = open(&path, 64 * 1024);
        let filler = vec![7u8; 1000];
        let mut images = 0;
        for n in 0..2_000u64 {
            let mut txn = store.write().expect("write");
            txn.put(key(n), &(n, filler.clone())).expect("put");
            let seq = txn.commit().expect("commit");
            store.wait_durable(seq).expect("durable");
            if n % 97 == 13 {
                let copy = dir.path().join(format!("image-{n}"));
                image(&path, &copy);
                let reopened = open(&copy, 64 * 1024);
                let read = reopened.read().expect("read");
                for m in [0, n / 2, n.saturating_sub(1), n] {
                    let (got, _): (u64, Vec<u8>) =
                        read.get(&key(m)).expect("get").expect("acknowledged");
                    assert_eq!(got, m);
                }
                assert!(read.get_raw(&key(n + 1)).expect("get").is_none());
                drop(read);
                assert_eq!(reopened.current_seq().expect("seq"), seq);
                drop(reopened);
                fs::remove_dir_all(&copy).expect("remove image");
                images += 1;
            }
        }
        assert!(images > 20);
        // 2 MiB of log went through a file that never grew past its first step.
        let log_len = fs::metadata(path.join(wal::WAL_FILE)).expect("log").len();
        assert!(log_len <= 1024 * 1024, "the log grew to {log_len} bytes");
        drop(store);
        assert_eq!(
            fs::metadata(path.join(wal::WAL_FILE)).expect("log").len(),
            0,
            "a clean close empties the log"
        );
        let store = open(&path, 64 * 1024);
        let read = store.read().expect("read");
        assert_eq!(
            read.scan_keys(&keys::meta("test-"), 5_000)
                .expect("scan")
                .len(),
            2_000
        );
    }
}
