//! The sled backend's write-ahead log of the store's own batches (issue 15).
//!
//! Why: sled's `flush` writes every page a batch touched, about 37 KiB per durable
//! checkout, and syncs them; that made a durable commit five fsyncs long. Here a durable
//! commit is one `fdatasync` of this log, which holds the batch itself (a few KiB).
//! sled still receives every batch at once (reads see it), but its pages are written
//! and synced only at a checkpoint, once per [`WAL_BYTES_MAX`] of log.
//!
//! The file (`pitstop.wal`) is written in place from offset 0 after every checkpoint and
//! only grows, in zero-filled [`GROW_BYTES`] steps, past what it ever held, so the sync
//! of a commit writes data blocks only, never the file's size or its block map (a growth
//! step costs one such sync per MiB). A clean close checkpoints and empties it: a closed
//! store is what it was before the log existed, and a store without a log opens as before.
//!
//! A record is `magic u32 | seq u64 | payload length u32 | crc32 u32 | payload`, all
//! little-endian; the crc covers seq, length and payload. The payload is the batch:
//! `count u32`, then per write `key length u32 | key | value length u32 | value`, a length
//! of `u32::MAX` meaning a deletion. `seq` is the store's sequence number the batch sets
//! (`META_SEQ`): the log holds an unbroken chain of batches, each one after the last.
//!
//! Replay (at open) reads the chain from offset 0 and stops at the first record that is
//! torn, fails its checksum or does not follow its predecessor (what is left of the log
//! before the last checkpoint: every such record is at or below the checkpointed batch).
//! Only a batch that was never synced can be torn by a crash, so the end of the chain is
//! where the acknowledged batches end — unless the disk damaged one in the middle. That
//! is caught by the high-water mark (`pitstop.hwm`, written after every sync): a store
//! that reopens below it lost acknowledged writes and is `corrupted`, never silently
//! shorter. A record whose checksum holds but whose batch does not parse is `corrupted`
//! at once.

use super::{WriteBatch, io_error};
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The log's file name in the store directory.
pub const WAL_FILE: &str = "pitstop.wal";

/// A checkpoint runs when the log holds more than this: sled's pages are then written
/// and synced once per this much log, and a replay reads at most about this much.
pub const WAL_BYTES_MAX: u64 = 32 * 1024 * 1024;

/// The file grows by this much, zero-filled, so that most syncs write no metadata.
const GROW_BYTES: u64 = 1024 * 1024;

const MAGIC: u32 = 0x4c41_5750; // "PWAL"
const HEADER_BYTES: usize = 4 + 8 + 4 + 4;
const DELETED: u32 = u32::MAX;

/// The log file, written by the store's one writer and synced by group commit.
pub struct Wal {
    path: PathBuf,
    /// Written under the backend's log lock (`&mut` through it).
    write_file: File,
    /// Where the next record goes.
    end: u64,
    /// Bytes of the file that are allocated and zero-filled or written.
    allocated: u64,
    /// The record being built, kept to reuse its allocation.
    buffer: Vec<u8>,
}

/// One batch read back from the log.
pub struct Replayed {
    pub seq: u64,
    pub batch: WriteBatch,
}

impl Wal {
    /// Open (creating it empty) the log of the store at `dir`.
    pub fn open(dir: &Path) -> Result<Wal> {
        let path = dir.join(WAL_FILE);
        let write_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|err| io_error(&format!("opening {}", path.display()), err))?;
        let allocated = write_file
            .metadata()
            .map_err(|err| io_error(&format!("reading {}", path.display()), err))?
            .len();
        Ok(Wal {
            path,
            write_file,
            end: 0,
            allocated,
            buffer: Vec::new(),
        })
    }

    /// The batches the log holds after `store_seq`, in order. A chain that begins past
    /// `store_seq + 1` means sled lost batches a checkpoint had made durable: `corrupted`.
    pub fn replay(&self, store_seq: u64) -> Result<Vec<Replayed>> {
        let bytes = std::fs::read(&self.path)
            .map_err(|err| io_error(&format!("reading {}", self.path.display()), err))?;
        let mut out: Vec<Replayed> = Vec::new();
        let mut offset = 0usize;
        let mut previous: Option<u64> = None;
        while let Some((seq, payload)) = record_at(&bytes, offset) {
            if previous.is_some_and(|previous| seq != previous + 1) {
                break;
            }
            previous = Some(seq);
            offset += HEADER_BYTES + payload.len();
            if seq <= store_seq {
                continue;
            }
            if out.is_empty() && seq != store_seq + 1 {
                return Err(Error::corrupted(format!(
                    "the store's log at {} continues from batch {}, but the store holds batch {store_seq}: batches in between are lost",
                    self.path.display(),
                    seq - 1
                )));
            }
            let batch = decode_batch(payload).ok_or_else(|| {
                Error::corrupted(format!(
                    "the store's log at {} holds batch {seq} with an intact checksum but an unreadable body",
                    self.path.display()
                ))
            })?;
            out.push(Replayed { seq, batch });
        }
        Ok(out)
    }

    /// Whether the file holds nothing at all (a store closed cleanly, or new).
    pub fn is_empty(&self) -> bool {
        self.allocated == 0
    }

    /// Bytes of log written since the last checkpoint.
    pub fn used(&self) -> u64 {
        self.end
    }

    /// Write batch `seq` after the last record (not yet durable: see [`sync`]).
    /// On an error the log is as before: the next record overwrites what was written.
    pub fn append(&mut self, seq: u64, batch: &WriteBatch) -> Result<()> {
        encode_record(&mut self.buffer, seq, batch)?;
        let start = self.end;
        let end = start + self.buffer.len() as u64;
        if end > self.allocated {
            self.grow(end)?;
        }
        self.write_file
            .seek(SeekFrom::Start(start))
            .and_then(|_| self.write_file.write_all(&self.buffer))
            .map_err(|err| io_error("writing the store's log", err))?;
        self.end = end;
        Ok(())
    }

    /// Take back the record [`Wal::append`] just wrote (sled refused the batch): its
    /// header is zeroed, so even before it is overwritten no replay can take it.
    pub fn retract(&mut self, seq: u64, batch: &WriteBatch) -> Result<()> {
        encode_record(&mut self.buffer, seq, batch)?;
        let start = self.end - self.buffer.len() as u64;
        self.write_file
            .seek(SeekFrom::Start(start))
            .and_then(|_| self.write_file.write_all(&[0u8; HEADER_BYTES]))
            .map_err(|err| io_error("writing the store's log", err))?;
        self.end = start;
        Ok(())
    }

    fn grow(&mut self, end: u64) -> Result<()> {
        let target = end.div_ceil(GROW_BYTES) * GROW_BYTES;
        let zeros = vec![0u8; 64 * 1024];
        self.write_file
            .seek(SeekFrom::Start(self.allocated))
            .map_err(|err| io_error("growing the store's log", err))?;
        let mut at = self.allocated;
        while at < target {
            let step = (target - at).min(zeros.len() as u64) as usize;
            self.write_file
                .write_all(&zeros[..step])
                .map_err(|err| io_error("growing the store's log", err))?;
            at += step as u64;
        }
        self.allocated = target;
        Ok(())
    }

    /// A second handle on the file for [`sync`], so a sync never waits for the writer.
    pub fn sync_handle(&self) -> Result<File> {
        self.write_file
            .try_clone()
            .map_err(|err| io_error(&format!("opening {}", self.path.display()), err))
    }

    /// Start again at offset 0: everything logged is now durable in sled (a checkpoint).
    /// The old records stay until overwritten; replay never takes them (see the module).
    pub fn restart(&mut self) {
        self.end = 0;
    }

    /// Empty the file (a clean close, after a checkpoint).
    pub fn truncate(&mut self) -> Result<()> {
        self.write_file
            .set_len(0)
            .and_then(|()| self.write_file.sync_all())
            .map_err(|err| io_error("emptying the store's log", err))?;
        self.end = 0;
        self.allocated = 0;
        Ok(())
    }
}

/// Make every record appended through the log's handle durable (one `fdatasync`).
pub fn sync(handle: &File) -> Result<()> {
    handle
        .sync_data()
        .map_err(|err| io_error("fdatasync of the store's log", err))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// The record at `offset`, if one is there whole with a good checksum.
fn record_at(bytes: &[u8], offset: usize) -> Option<(u64, &[u8])> {
    if read_u32(bytes, offset)? != MAGIC {
        return None;
    }
    let seq = read_u64(bytes, offset + 4)?;
    let len = read_u32(bytes, offset + 12)? as usize;
    let crc = read_u32(bytes, offset + 16)?;
    let start = offset + HEADER_BYTES;
    let payload = bytes.get(start..start.checked_add(len)?)?;
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&bytes[offset + 4..offset + 16]);
    hasher.update(payload);
    (hasher.finalize() == crc).then_some((seq, payload))
}

fn length(n: usize) -> Result<u32> {
    u32::try_from(n)
        .ok()
        .filter(|n| *n != DELETED)
        .ok_or_else(|| Error::internal("a batch too large for the store's log"))
}

fn encode_record(out: &mut Vec<u8>, seq: u64, batch: &WriteBatch) -> Result<()> {
    out.clear();
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&[0u8; 8]); // length and crc, filled in below
    out.extend_from_slice(&length(batch.len())?.to_le_bytes());
    for (key, value) in batch {
        out.extend_from_slice(&length(key.len())?.to_le_bytes());
        out.extend_from_slice(key);
        match value {
            Some(value) => {
                out.extend_from_slice(&length(value.len())?.to_le_bytes());
                out.extend_from_slice(value);
            }
            None => out.extend_from_slice(&DELETED.to_le_bytes()),
        }
    }
    let len = length(out.len() - HEADER_BYTES)?;
    out[12..16].copy_from_slice(&len.to_le_bytes());
    // The crc is over seq ++ length ++ payload, as `record_at` checks it.
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&out[4..16]);
    hasher.update(&out[HEADER_BYTES..]);
    let crc = hasher.finalize();
    out[16..20].copy_from_slice(&crc.to_le_bytes());
    debug_assert_eq!(record_at(out, 0).map(|(s, _)| s), Some(seq));
    Ok(())
}

fn decode_batch(payload: &[u8]) -> Option<WriteBatch> {
    let count = read_u32(payload, 0)? as usize;
    let mut at = 4;
    let mut batch = WriteBatch::new();
    for _ in 0..count {
        let key_len = read_u32(payload, at)? as usize;
        let key = payload.get(at + 4..at + 4 + key_len)?.to_vec();
        at += 4 + key_len;
        let value_len = read_u32(payload, at)?;
        at += 4;
        let value = if value_len == DELETED {
            None
        } else {
            let value = payload.get(at..at + value_len as usize)?.to_vec();
            at += value_len as usize;
            Some(value)
        };
        batch.insert(key, value);
    }
    (at == payload.len()).then_some(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(n: u8) -> WriteBatch {
        let mut batch = WriteBatch::new();
        batch.insert(vec![b'c', n], Some(vec![n; 100 + usize::from(n)]));
        batch.insert(vec![b'x', n], None);
        batch
    }

    #[test]
    fn records_read_back_in_order_and_a_torn_tail_ends_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path()).unwrap();
        for seq in 1..=5u8 {
            wal.append(u64::from(seq), &batch(seq)).unwrap();
        }
        sync(&wal.sync_handle().unwrap()).unwrap();
        let replayed = wal.replay(2).unwrap();
        assert_eq!(
            replayed.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
        assert_eq!(replayed[0].batch, batch(3));
        // Tear the last record: the chain ends before it.
        let end = wal.used();
        let mut bytes = std::fs::read(dir.path().join(WAL_FILE)).unwrap();
        bytes[end as usize - 3] ^= 0x55;
        std::fs::write(dir.path().join(WAL_FILE), &bytes).unwrap();
        let replayed = wal.replay(2).unwrap();
        assert_eq!(
            replayed.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![3, 4]
        );
    }

    #[test]
    fn a_restarted_log_ignores_the_records_left_from_before() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path()).unwrap();
        for seq in 1..=6u8 {
            wal.append(u64::from(seq), &batch(seq)).unwrap();
        }
        wal.restart();
        wal.append(7, &batch(1)).unwrap();
        let replayed = wal.replay(6).unwrap();
        assert_eq!(replayed.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![7]);
        // A gap between the store and the log is damage, not a short log.
        assert!(wal.replay(4).is_err());
        wal.retract(7, &batch(1)).unwrap();
        assert!(wal.replay(6).unwrap().is_empty());
    }
}
