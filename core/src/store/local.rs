//! A store that one process owns (sled): the writer and the snapshots are this process's
//! locks. [`Local`] turns a raw ordered map with atomic batches ([`LocalKv`]) into a
//! [`Backend`]:
//! - one writer at a time: [`Local::begin_write`] holds the writer mutex until the write
//!   is applied or dropped;
//! - a batch is applied under the apply lock's write side; a snapshot holds its read
//!   side, so it never sees half of a batch nor a batch applied after it began;
//! - a stepwise view takes the read side for each call only.

use super::{Backend, Pair, View, WriteBatch, WriteView};
use crate::error::Result;
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};

/// A raw ordered key-value map owned by one process.
pub trait LocalKv: Send + Sync {
    /// Point read.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Keys in `[start, end)` in order (or reverse order), at most `limit` of them.
    fn scan(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>>;
    /// Apply every write of the batch atomically.
    fn apply(&self, batch: &WriteBatch) -> Result<()>;
    /// Make every applied batch durable.
    fn sync(&self) -> Result<()>;
    /// Bytes on disk.
    fn size_on_disk(&self) -> Result<u64>;
    /// See [`Backend::record_durable_seq`].
    fn record_durable_seq(&self, seq: u64) -> Result<()>;
    /// See [`Backend::recorded_durable_seq`].
    fn recorded_durable_seq(&self) -> Result<Option<u64>>;
}

/// A [`LocalKv`] with the locks that make it a [`Backend`].
pub struct Local<K: LocalKv> {
    kv: K,
    writer: Mutex<()>,
    apply_lock: RwLock<()>,
}

impl<K: LocalKv> Local<K> {
    /// Wrap an opened map.
    pub fn new(kv: K) -> Local<K> {
        Local {
            kv,
            writer: Mutex::new(()),
            apply_lock: RwLock::new(()),
        }
    }

    fn read_guard(&self) -> RwLockReadGuard<'_, ()> {
        self.apply_lock
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

struct Snapshot<'a, K: LocalKv> {
    kv: &'a K,
    _guard: RwLockReadGuard<'a, ()>,
}

impl<K: LocalKv> View for Snapshot<'_, K> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.kv.get(key)
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>> {
        self.kv.scan(start, end, limit, reverse)
    }
}

struct Stepwise<'a, K: LocalKv> {
    local: &'a Local<K>,
}

impl<K: LocalKv> View for Stepwise<'_, K> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let _guard = self.local.read_guard();
        self.local.kv.get(key)
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>> {
        let _guard = self.local.read_guard();
        self.local.kv.scan(start, end, limit, reverse)
    }
}

struct Writer<'a, K: LocalKv> {
    local: &'a Local<K>,
    _writer: MutexGuard<'a, ()>,
}

impl<K: LocalKv> View for Writer<'_, K> {
    // The writer is the only one who applies batches, so it needs no apply lock to read.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.local.kv.get(key)
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>> {
        self.local.kv.scan(start, end, limit, reverse)
    }
}

impl<K: LocalKv> WriteView for Writer<'_, K> {
    fn apply(&mut self, batch: &WriteBatch) -> Result<()> {
        let _guard = self
            .local
            .apply_lock
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.local.kv.apply(batch)
    }
}

impl<K: LocalKv> Backend for Local<K> {
    fn snapshot(&self) -> Result<Box<dyn View + '_>> {
        Ok(Box::new(Snapshot {
            kv: &self.kv,
            _guard: self.read_guard(),
        }))
    }

    fn stepwise(&self) -> Result<Box<dyn View + '_>> {
        Ok(Box::new(Stepwise { local: self }))
    }

    fn begin_write(&self) -> Result<Box<dyn WriteView + '_>> {
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(Box::new(Writer {
            local: self,
            _writer: writer,
        }))
    }

    fn sync(&self) -> Result<()> {
        self.kv.sync()
    }

    fn size_on_disk(&self) -> Result<u64> {
        self.kv.size_on_disk()
    }

    fn record_durable_seq(&self, seq: u64) -> Result<()> {
        self.kv.record_durable_seq(seq)
    }

    fn recorded_durable_seq(&self) -> Result<Option<u64>> {
        self.kv.recorded_durable_seq()
    }
}
