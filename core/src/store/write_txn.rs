//! [`WriteTxn`]: a writer's overlay of buffered writes over the store, applied as one
//! atomic batch, and its amendments: changes to a figure that depend only on what the
//! figure holds when the batch is applied.

use super::{Pair, Reader, Store, WriteBatch, WriteView, decode, encode, encode_json, keys};
use crate::audit::Change;
use crate::error::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// A change of a stored value (sealed bytes; `None`: absent) into another, given its key
/// for messages. It may run more than once (a read of the key before the commit runs
/// it too), so it is a pure function of what it captured.
pub type Amend<'a> = Box<dyn Fn(&[u8], Option<&[u8]>) -> Result<Option<Vec<u8>>> + 'a>;

/// Writes buffered over the store, applied as one atomic batch by [`WriteTxn::commit`].
/// While it lives, what it read stays as it read it: on sled its holder is the store's
/// one writer; on a shared store it holds the locks of what it read
/// ([`super::lock_scope`]), or the whole store's.
pub struct WriteTxn<'a> {
    store: &'a Store,
    view: Box<dyn WriteView + 'a>,
    writes: WriteBatch,
    /// Changes of figures many writers change (a day's totals), kept apart from
    /// `writes` until the commit, in the order made; a put or delete of the key drops
    /// them. Each applies to the key's value in `writes`, else in the store.
    amends: BTreeMap<Vec<u8>, Vec<Amend<'a>>>,
    /// Who-changed-what values the operation recorded, written to the audit log by
    /// whoever commits (the session) in this same batch.
    changes: Vec<Change>,
}

impl<'a> WriteTxn<'a> {
    pub(super) fn new(store: &'a Store, view: Box<dyn WriteView + 'a>) -> WriteTxn<'a> {
        WriteTxn {
            store,
            view,
            writes: BTreeMap::new(),
            amends: BTreeMap::new(),
            changes: Vec::new(),
        }
    }

    /// Take the next value of the counter named `counter` (a meta record; values start
    /// at 1). On a shared store values are taken outside the transaction (see
    /// [`WriteView::take_counter`]), so a failed operation leaves a gap.
    pub fn next_id(&mut self, counter: &str) -> Result<u64> {
        let key = keys::meta(counter);
        if let Some(value) = self.view.take_counter(&key, 1)? {
            return Ok(value);
        }
        let current: u64 = self.get(&key)?.unwrap_or(0);
        let next = current
            .checked_add(1)
            .ok_or_else(|| Error::internal(format!("counter {counter} overflowed")))?;
        self.put(key, &next)?;
        Ok(next)
    }

    /// Buffer a record.
    pub fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<()> {
        let bytes = encode(value)?;
        self.amends.remove(&key);
        self.writes.insert(key, Some(bytes));
        Ok(())
    }

    /// Change the record at `key` by `change`, applied to what the record holds when the
    /// batch is applied (`None`: absent; returning `None` deletes it). For figures that
    /// many writers change and none needs to see to decide (a day's totals): on a shared
    /// store the record is locked and read only at the commit, so writers wait for each
    /// other for as short as possible; until then a read of the key sees the change.
    pub fn amend<T, F>(&mut self, key: Vec<u8>, change: F)
    where
        T: Serialize + DeserializeOwned,
        F: Fn(Option<T>) -> Result<Option<T>> + 'a,
    {
        let amend: Amend<'a> = Box::new(move |key, sealed| {
            let value = sealed.map(|bytes| decode::<T>(key, bytes)).transpose()?;
            change(value)?.as_ref().map(encode).transpose()
        });
        self.amends.entry(key).or_default().push(amend);
    }

    /// Buffer a JSON document.
    pub fn put_json<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<()> {
        let bytes = encode_json(value)?;
        self.amends.remove(&key);
        self.writes.insert(key, Some(bytes));
        Ok(())
    }

    /// Buffer an already sealed value (the conformance tests write damaged ones).
    #[cfg(test)]
    pub fn put_raw(&mut self, key: Vec<u8>, sealed: Vec<u8>) {
        self.amends.remove(&key);
        self.writes.insert(key, Some(sealed));
    }

    /// Move a record to another key as it is (`customer.merge` re-files a customer's
    /// index entries under the kept customer); nothing when `from` holds nothing.
    pub fn move_record(&mut self, from: &[u8], to: Vec<u8>) -> Result<()> {
        if let Some(sealed) = self.get_raw(from)? {
            self.amends.remove(from);
            self.amends.remove(&to);
            self.writes.insert(from.to_vec(), None);
            self.writes.insert(to, Some(sealed));
        }
        Ok(())
    }

    /// Buffer a deletion.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.amends.remove(&key);
        self.writes.insert(key, None);
    }

    /// Note a change for the audit log (written with the batch by the session).
    pub fn record(&mut self, change: Change) {
        self.changes.push(change);
    }

    /// Note several changes for the audit log.
    pub fn record_all(&mut self, changes: impl IntoIterator<Item = Change>) {
        self.changes.extend(changes);
    }

    /// The changes noted so far, taken out to be written.
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    /// Apply the batch atomically; returns its sequence number (for [`Store::wait_durable`]).
    /// An empty transaction applies nothing and returns this process's last sequence.
    pub fn commit(mut self) -> Result<u64> {
        self.settle_amends()?;
        if self.writes.is_empty() {
            return Ok(self.store.applied_seq());
        }
        self.store.apply(self.view, self.writes)
    }

    /// What the store held at `key` when this writer read it, whatever this batch
    /// writes there: for a check of what the operation started from.
    pub fn get_stored<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        self.view
            .get(key)?
            .map(|bytes| decode(key, &bytes))
            .transpose()
    }

    /// Read `keys` before they are asked for, together ([`WriteView::read_ahead`]): the
    /// first reads of an operation that knows them in advance (a checkout's order and
    /// customer). Only a hint: the reads that follow give the same answers either way.
    pub fn read_ahead(&self, keys: &[Vec<u8>]) -> Result<()> {
        let unread: Vec<Vec<u8>> = keys
            .iter()
            .filter(|key| !self.writes.contains_key(*key))
            .cloned()
            .collect();
        if unread.is_empty() {
            return Ok(());
        }
        self.view.read_ahead(&unread)
    }

    /// Turn the amendments into writes: the records they change not written yet are
    /// read together, locked for writing (one round trip on a shared store).
    fn settle_amends(&mut self) -> Result<()> {
        if self.amends.is_empty() {
            return Ok(());
        }
        let unread: Vec<Vec<u8>> = self
            .amends
            .keys()
            .filter(|key| !self.writes.contains_key(*key))
            .cloned()
            .collect();
        self.view.read_for_write(&unread)?;
        for (key, amends) in std::mem::take(&mut self.amends) {
            let value = self.amended(&key, &amends)?;
            self.writes.insert(key, value);
        }
        Ok(())
    }

    /// What `key` holds once `amends` apply to its value in the overlay or the store.
    fn amended(&self, key: &[u8], amends: &[Amend<'a>]) -> Result<Option<Vec<u8>>> {
        let mut value = match self.writes.get(key) {
            Some(value) => value.clone(),
            None => self.view.get(key)?,
        };
        for amend in amends {
            value = amend(key, value.as_deref())?;
        }
        Ok(value)
    }
}

impl Reader for WriteTxn<'_> {
    fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(amends) = self.amends.get(key) {
            return self.amended(key, amends);
        }
        match self.writes.get(key) {
            Some(value) => Ok(value.clone()),
            None => self.view.get(key),
        }
    }

    fn scan_raw(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>> {
        let range = start.to_vec()..end.to_vec();
        let mut overlay: BTreeMap<Vec<u8>, Option<Vec<u8>>> = self
            .writes
            .range(range.clone())
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        for (key, amends) in self.amends.range(range) {
            overlay.insert(key.clone(), self.amended(key, amends)?);
        }
        if overlay.is_empty() {
            return self.view.scan(start, end, limit, reverse);
        }
        // Deleted keys may hide backend keys, so ask for enough to still fill `limit`.
        let deletions = overlay.iter().filter(|(_, value)| value.is_none()).count();
        let fetched = self
            .view
            .scan(start, end, limit.saturating_add(deletions), reverse)?;
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = fetched.into_iter().collect();
        for (key, value) in overlay {
            match value {
                Some(value) => merged.insert(key, value),
                None => merged.remove(&key),
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
