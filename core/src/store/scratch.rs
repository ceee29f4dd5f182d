//! A scratch store in memory: the same [`Store`] interface over an ordered map that never
//! reaches a disk. A what-if replay (`program.simulate`) runs the real checkout and
//! daily job against one and drops it; the shop's store is only read.

use super::local::{Local, LocalKv};
use super::{Durability, Pair, Store, WriteBatch, encode, keys};
use crate::error::Result;
use std::collections::BTreeMap;
use std::sync::RwLock;

/// An ordered map behind a lock: a [`LocalKv`] with nothing to sync.
#[derive(Default)]
struct MemoryKv {
    map: RwLock<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl LocalKv for MemoryKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        Ok(map.get(key).cloned())
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>> {
        if start >= end || limit == 0 {
            return Ok(Vec::new());
        }
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        let range = map.range(start.to_vec()..end.to_vec());
        let pairs: Box<dyn Iterator<Item = (&Vec<u8>, &Vec<u8>)>> = if reverse {
            Box::new(range.rev())
        } else {
            Box::new(range)
        };
        Ok(pairs
            .take(limit)
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect())
    }

    fn apply(&self, batch: &WriteBatch) -> Result<()> {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        for (key, value) in batch {
            match value {
                Some(value) => map.insert(key.clone(), value.clone()),
                None => map.remove(key),
            };
        }
        Ok(())
    }

    fn sync(&self) -> Result<()> {
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64> {
        Ok(0)
    }

    fn record_durable_seq(&self, _seq: u64) -> Result<()> {
        Ok(())
    }

    fn recorded_durable_seq(&self) -> Result<Option<u64>> {
        Ok(None)
    }
}

impl Store {
    /// An empty store in memory (format and sequence set, nothing else), gone when
    /// dropped. Its size is what is written to it.
    pub fn scratch() -> Result<Store> {
        let kv = MemoryKv::default();
        let mut batch = WriteBatch::new();
        batch.insert(
            keys::meta(keys::META_FORMAT),
            Some(encode(&super::FORMAT_VERSION)?),
        );
        batch.insert(keys::meta(keys::META_SEQ), Some(encode(&0u64)?));
        kv.apply(&batch)?;
        Ok(Store::new(Box::new(Local::new(kv)), 0, Durability::Import))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Reader;

    #[test]
    fn a_scratch_store_keeps_what_is_written_in_memory() {
        let store = Store::scratch().unwrap();
        let mut txn = store.write().unwrap();
        txn.put(b"k1".to_vec(), &7u64).unwrap();
        txn.put(b"k2".to_vec(), &8u64).unwrap();
        assert_eq!(txn.commit().unwrap(), 1);
        let view = store.read().unwrap();
        assert_eq!(view.get::<u64>(b"k1").unwrap(), Some(7));
        let rows = view.scan_range::<u64>(b"k", b"l", 10, true).unwrap();
        assert_eq!(rows.iter().map(|(_, v)| *v).collect::<Vec<_>>(), vec![8, 7]);
        assert_eq!(store.current_seq().unwrap(), 1);
    }
}
