//! sled alone applying Pitstop's own batches (read back from the write-ahead log): the floor
//! under Pitstop's CPU and bytes per commit.

use super::*;

/// What sled alone costs for Pitstop's batches.
pub(crate) struct SledAlone {
    pub(crate) batches: usize,
    /// Median CPU of one `apply_batch`, µs.
    pub(crate) apply_cpu: f64,
    /// Bytes written per batch when sled is flushed only at the end (what the log allows).
    pub(crate) written_unflushed: f64,
    /// Bytes written per batch with a flush after each (what sled's flush path does).
    pub(crate) written_flushed: f64,
}

pub(crate) type Batch = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// The batches in the store's write-ahead log since its last checkpoint (the format is
/// in core/src/store/wal.rs: magic, seq, length, crc32, then the writes).
pub(crate) fn logged_batches(store: &Path) -> (Vec<Batch>, u64) {
    let log = fs::read(store.join("pitstop.wal")).unwrap_or_default();
    let u32_at = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(log.get(at..at + 4)?.try_into().ok()?))
    };
    let mut batches = Vec::new();
    let mut offset = 0;
    let mut last_seq = None;
    while u32_at(offset) == Some(0x4c41_5750) {
        let seq = u64::from_le_bytes(log[offset + 4..offset + 12].try_into().unwrap());
        if last_seq.is_some_and(|last: u64| seq != last + 1) {
            break;
        }
        last_seq = Some(seq);
        let len = u32_at(offset + 12).unwrap() as usize;
        let payload = &log[offset + 20..offset + 20 + len];
        let mut at = 4;
        let mut batch = Batch::new();
        let read = |at: usize| u32::from_le_bytes(payload[at..at + 4].try_into().unwrap());
        for _ in 0..read(0) {
            let key_len = read(at) as usize;
            let key = payload[at + 4..at + 4 + key_len].to_vec();
            at += 4 + key_len;
            let value_len = read(at);
            at += 4;
            let value = (value_len != u32::MAX).then(|| {
                let value = payload[at..at + value_len as usize].to_vec();
                at += value_len as usize;
                value
            });
            batch.push((key, value));
        }
        batches.push(batch);
        offset += 20 + len;
    }
    (batches, offset as u64)
}

/// Apply `batches` to the sled data of a closed store copy, configured as Pitstop
/// configures it (but for `mode`): the first half flushed only at the end, the second
/// flushed after each.
pub(crate) fn sled_alone(path: &Path, batches: &[Batch], mode: sled::Mode) -> SledAlone {
    let db = sled::Config::new()
        .path(path)
        .cache_capacity(64 * 1024 * 1024)
        .flush_every_ms(None)
        .mode(mode)
        .open()
        .expect("open sled alone");
    let apply = |batch: &Batch| {
        let mut sled_batch = sled::Batch::default();
        for (key, value) in batch {
            match value {
                Some(value) => sled_batch.insert(key.as_slice(), value.as_slice()),
                None => sled_batch.remove(key.as_slice()),
            }
        }
        let start = thread_cpu();
        db.apply_batch(sled_batch).expect("apply");
        micros(thread_cpu().saturating_sub(start))
    };
    let half = batches.len() / 2;
    let mut cpu = Vec::new();
    let before = disk_writes().unwrap_or(0);
    for batch in &batches[..half] {
        cpu.push(apply(batch));
    }
    db.flush().expect("flush");
    let middle = disk_writes().unwrap_or(0);
    for batch in &batches[half..] {
        cpu.push(apply(batch));
        db.flush().expect("flush");
    }
    let after = disk_writes().unwrap_or(0);
    SledAlone {
        batches: batches.len(),
        apply_cpu: median(&cpu),
        written_unflushed: middle.saturating_sub(before) as f64 / half.max(1) as f64,
        written_flushed: after.saturating_sub(middle) as f64 / (batches.len() - half).max(1) as f64,
    }
}
