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

use super::local::LocalKv;
use super::{Pair, WriteBatch, fsync, io_error, keys, locked_error};
use crate::error::{Error, ErrorCode, Result};
use std::collections::{BTreeSet, HashSet};
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
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
    // Last: fields drop in order, so the path is released only after sled has closed.
    _registration: Registration,
}

/// Settings for opening a sled store.
#[derive(Debug, Clone)]
pub struct SledOptions {
    /// Upper bound of sled's page cache in bytes.
    pub cache_capacity_bytes: u64,
}

impl Default for SledOptions {
    fn default() -> Self {
        SledOptions {
            cache_capacity_bytes: 64 * 1024 * 1024,
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
        };
        backend.remember_existing_blobs();
        Ok((backend, created))
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

    fn sync(&self) -> Result<()> {
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
