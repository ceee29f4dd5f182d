//! Conformance tests every [`Backend`] must pass, run against sled and against a plain
//! in-memory map. A new backend (PostgreSQL for dealer groups) adds itself to the list
//! at the bottom and must pass the same suite unchanged.

use super::local::{Local, LocalKv};
use super::postgres_backend::PostgresBackend;
use super::sled_backend::{SledBackend, SledOptions};
use super::{Backend, Durability, Pair, Reader, Store, WriteBatch, keys};
use crate::error::Result;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The reference backend: an ordered map, trivially correct, not durable.
#[derive(Default)]
struct MemoryBackend {
    map: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
    durable_seq: Mutex<Option<u64>>,
}

impl LocalKv for MemoryBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned())
    }
    fn scan(&self, start: &[u8], end: &[u8], limit: usize, reverse: bool) -> Result<Vec<Pair>> {
        if start >= end {
            return Ok(Vec::new());
        }
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let range = map
            .range(start.to_vec()..end.to_vec())
            .map(|(k, v)| (k.clone(), v.clone()));
        Ok(if reverse {
            range.rev().take(limit).collect()
        } else {
            range.take(limit).collect()
        })
    }
    fn apply(&self, batch: &WriteBatch) -> Result<()> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
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
    fn record_durable_seq(&self, seq: u64) -> Result<()> {
        *self.durable_seq.lock().unwrap_or_else(|p| p.into_inner()) = Some(seq);
        Ok(())
    }
    fn recorded_durable_seq(&self) -> Result<Option<u64>> {
        Ok(*self.durable_seq.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

type Factory = fn(&str) -> Option<(Box<dyn Backend>, Option<std::path::PathBuf>)>;

fn memory(_: &str) -> Option<(Box<dyn Backend>, Option<std::path::PathBuf>)> {
    let backend = MemoryBackend::default();
    let mut batch = WriteBatch::new();
    batch.insert(
        keys::meta(keys::META_SEQ),
        Some(super::encode(&0u64).unwrap()),
    );
    backend.apply(&batch).unwrap();
    Some((Box::new(Local::new(backend)), None))
}

fn sled(name: &str) -> Option<(Box<dyn Backend>, Option<std::path::PathBuf>)> {
    let path =
        std::env::temp_dir().join(format!("pitstop-conformance-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    let (backend, created) = SledBackend::open(&path, &SledOptions::default()).expect("open sled");
    assert!(created);
    Some((Box::new(Local::new(backend)), Some(path)))
}

/// PostgreSQL, when the tests are given a server (`PITSTOP_TEST_POSTGRES`, a libpq
/// `key=value` string; `make test` starts a throwaway cluster and sets it): each test
/// gets a schema of its own.
fn postgres(name: &str) -> Option<(Box<dyn Backend>, Option<std::path::PathBuf>)> {
    let base = std::env::var("PITSTOP_TEST_POSTGRES").ok()?;
    let schema = format!(
        "conformance_{}_{}",
        std::process::id(),
        name.replace('-', "_")
    );
    let mut admin = ::postgres::Client::connect(&base, ::postgres::NoTls).expect("connect");
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .expect("create schema");
    let connection = format!("{base} options='-c search_path={schema}'");
    let (backend, created) = PostgresBackend::open(&connection).expect("open postgres");
    assert!(created);
    Some((Box::new(backend), None))
}

const BACKENDS: [(&str, Factory); 3] = [("memory", memory), ("sled", sled), ("pg", postgres)];

fn each_backend(test: &str, body: impl Fn(Store)) {
    for (name, factory) in BACKENDS {
        let Some((backend, path)) = factory(&format!("{test}-{name}")) else {
            continue;
        };
        body(Store::new(backend, 0, Durability::Durable));
        if let Some(path) = path {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

fn key(table: u8, n: u64) -> Vec<u8> {
    keys::KeyBuilder::new(table).u64(n).build()
}

#[test]
fn batches_apply_atomically_and_deletions_hide_keys() {
    each_backend("atomic", |store| {
        let mut txn = store.write().unwrap();
        for n in 0..10u64 {
            txn.put(key(b'c', n), &n).unwrap();
        }
        let seq = txn.commit().unwrap();
        store.wait_durable(seq).unwrap();
        let mut txn = store.write().unwrap();
        txn.delete(key(b'c', 3));
        txn.put(key(b'c', 4), &44u64).unwrap();
        txn.commit().unwrap();
        let view = store.read().unwrap();
        assert_eq!(view.get::<u64>(&key(b'c', 3)).unwrap(), None);
        assert_eq!(view.get::<u64>(&key(b'c', 4)).unwrap(), Some(44));
        let all: Vec<u64> = view
            .scan_prefix::<u64>(b"c", 100)
            .unwrap()
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        assert_eq!(all, vec![0, 1, 2, 44, 5, 6, 7, 8, 9]);
    });
}

#[test]
fn scans_are_ordered_bounded_and_reversible() {
    each_backend("scan", |store| {
        let mut txn = store.write().unwrap();
        for n in [5u64, 1, 300, 2, 70_000] {
            txn.put(key(b'e', n), &n).unwrap();
        }
        txn.put(key(b'f', 0), &0u64).unwrap();
        txn.commit().unwrap();
        let view = store.read().unwrap();
        let forward: Vec<u64> = view
            .scan_prefix::<u64>(b"e", 3)
            .unwrap()
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        assert_eq!(
            forward,
            vec![1, 2, 5],
            "big-endian keys scan in numeric order"
        );
        let end = keys::prefix_end(b"e");
        let backward: Vec<u64> = view
            .scan_range::<u64>(b"e", &end, 2, true)
            .unwrap()
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        assert_eq!(backward, vec![70_000, 300]);
        assert!(
            view.scan_raw(&end, b"e", 10, false).unwrap().is_empty(),
            "an empty range is empty"
        );
    });
}

#[test]
fn a_write_transaction_reads_its_own_writes_merged_with_the_store() {
    each_backend("overlay", |store| {
        let mut txn = store.write().unwrap();
        for n in 0..6u64 {
            txn.put(key(b'l', n), &n).unwrap();
        }
        txn.commit().unwrap();
        let mut txn = store.write().unwrap();
        txn.delete(key(b'l', 0));
        txn.delete(key(b'l', 1));
        txn.put(key(b'l', 2), &20u64).unwrap();
        txn.put(key(b'l', 9), &9u64).unwrap();
        let seen: Vec<u64> = txn
            .scan_prefix::<u64>(b"l", 3)
            .unwrap()
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        assert_eq!(
            seen,
            vec![20, 3, 4],
            "deletions hide, puts replace, the limit still fills"
        );
        drop(txn);
        let untouched: Vec<u64> = store
            .read()
            .unwrap()
            .scan_prefix::<u64>(b"l", 10)
            .unwrap()
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        assert_eq!(
            untouched,
            vec![0, 1, 2, 3, 4, 5],
            "a dropped transaction leaves nothing behind"
        );
    });
}

/// An amendment that adds `by` to a counter, deleting it at zero.
fn add(by: i64) -> impl Fn(Option<i64>) -> Result<Option<i64>> {
    move |value| {
        let sum = value.unwrap_or(0) + by;
        Ok((sum != 0).then_some(sum))
    }
}

#[test]
fn amendments_apply_in_order_over_the_overlay_and_are_seen_before_the_commit() {
    each_backend("amend", |store| {
        let mut txn = store.write().unwrap();
        txn.put(key(b'm', 1), &10i64).unwrap();
        txn.put(key(b'm', 2), &5i64).unwrap();
        txn.commit().unwrap();

        let mut txn = store.write().unwrap();
        txn.amend(key(b'm', 1), add(1));
        txn.amend(key(b'm', 1), |v: Option<i64>| Ok(v.map(|v| v * 2)));
        assert_eq!(txn.get::<i64>(&key(b'm', 1)).unwrap(), Some(22), "in order");
        // A put drops the amendments before it; one after it applies on top.
        txn.amend(key(b'm', 2), add(100));
        txn.put(key(b'm', 2), &7i64).unwrap();
        txn.amend(key(b'm', 2), add(1));
        // An absent record is amended from nothing; an amendment may delete.
        txn.amend(key(b'm', 3), add(4));
        txn.amend(key(b'm', 4), add(0));
        let seen: Vec<(Vec<u8>, i64)> = txn.scan_prefix::<i64>(b"m", 10).unwrap();
        let values: Vec<i64> = seen.iter().map(|(_, v)| *v).collect();
        assert_eq!(values, vec![22, 8, 4], "a scan sees the amended records");
        txn.commit().unwrap();

        let read = store.read().unwrap();
        assert_eq!(read.get::<i64>(&key(b'm', 1)).unwrap(), Some(22));
        assert_eq!(read.get::<i64>(&key(b'm', 2)).unwrap(), Some(8));
        assert_eq!(read.get::<i64>(&key(b'm', 3)).unwrap(), Some(4));
        assert_eq!(read.get::<i64>(&key(b'm', 4)).unwrap(), None);
        drop(read);

        // A failing amendment fails the commit, and nothing of the batch is written.
        let mut txn = store.write().unwrap();
        txn.put(key(b'm', 5), &1i64).unwrap();
        txn.amend(key(b'm', 1), |_: Option<i64>| {
            Err(crate::error::Error::internal("refused"))
        });
        assert!(txn.commit().is_err());
        assert_eq!(
            store.read().unwrap().get::<i64>(&key(b'm', 5)).unwrap(),
            None
        );
    });
}

/// Run `work(thread)` on `threads` threads at once; what each returned, by thread.
fn on_threads<T: Send>(threads: u64, work: impl Fn(u64) -> T + Sync) -> Vec<T> {
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = (0..threads)
            .map(|thread| scope.spawn(move || work(thread)))
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    })
}

#[test]
fn scoped_writers_amending_one_figure_lose_nothing() {
    each_backend("amend_many", |store| {
        on_threads(6, |thread| {
            for n in 0..20u64 {
                scoped(&store, |txn| {
                    // Each writer serves its own customer and moves a shared figure
                    // that no writer reads to decide.
                    let account = key(b'a', thread);
                    let a: u64 = txn.get(&account)?.unwrap_or(0);
                    txn.put(account, &(a + 1))?;
                    txn.amend(key(b'&', 0), add(1));
                    txn.amend(key(b'&', 1 + n % 2), add(2));
                    Ok(())
                });
            }
        });
        let read = store.read().unwrap();
        assert_eq!(read.get::<i64>(&key(b'&', 0)).unwrap(), Some(120));
        let halves = read.get::<i64>(&key(b'&', 1)).unwrap().unwrap_or(0)
            + read.get::<i64>(&key(b'&', 2)).unwrap().unwrap_or(0);
        assert_eq!(halves, 240);
    });
}

#[test]
fn damaged_values_are_reported_not_decoded() {
    each_backend("damage", |store| {
        let mut bytes = super::encode(&123_456u64).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        let mut txn = store.write().unwrap();
        txn.put_raw(key(b'c', 1), bytes);
        txn.commit().unwrap();
        let err = store.read().unwrap().get::<u64>(&key(b'c', 1)).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::Corrupted);
    });
}

#[test]
fn concurrent_committers_are_all_durable_and_sequenced() {
    each_backend("group", |store| {
        on_threads(8, |thread| {
            for n in 0..25u64 {
                let seq = {
                    let mut txn = store.write().unwrap();
                    txn.put(key(b'v', thread * 1000 + n), &n).unwrap();
                    txn.commit().unwrap()
                };
                store.wait_durable(seq).unwrap();
            }
        });
        if store.backend().shared() {
            // Writers sharing a store number their own batches.
            assert_eq!(store.applied_seq(), 200);
        } else {
            assert_eq!(store.current_seq().unwrap(), 200);
        }
        if !store.backend().durable_on_apply() {
            assert_eq!(store.backend().recorded_durable_seq().unwrap(), Some(200));
        }
        assert_eq!(
            store
                .read()
                .unwrap()
                .scan_prefix::<u64>(b"v", 1000)
                .unwrap()
                .len(),
            200
        );
    });
}

#[test]
fn a_stepwise_view_lets_commits_in_between_its_calls() {
    each_backend("stepwise", |store| {
        let mut txn = store.write().unwrap();
        txn.put(key(b's', 1), &1u64).unwrap();
        txn.commit().unwrap();
        let view = store.read_stepwise().unwrap();
        assert_eq!(view.get::<u64>(&key(b's', 1)).unwrap(), Some(1));
        // A snapshot held on this thread would keep this commit waiting forever (sled)
        // or hide it (PostgreSQL); a stepwise view lets it land and then sees it.
        let mut txn = store.write().unwrap();
        txn.put(key(b's', 2), &2u64).unwrap();
        txn.commit().unwrap();
        assert_eq!(view.scan_prefix::<u64>(b"s", 10).unwrap().len(), 2);
    });
}

#[test]
fn a_snapshot_never_sees_a_batch_applied_after_it_began() {
    each_backend("snapshot", |store| {
        let store = Arc::new(store);
        let view = store.read().unwrap();
        assert_eq!(view.get::<u64>(&key(b'n', 1)).unwrap(), None);
        let writer = {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let mut txn = store.write().unwrap();
                txn.put(key(b'n', 1), &1u64).unwrap();
                txn.put(key(b'n', 2), &2u64).unwrap();
                txn.commit().unwrap()
            })
        };
        // sled holds the commit back until the view ends; PostgreSQL lets it commit
        // and keeps it out of the view. Either way the view sees the state it began at.
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(view.get::<u64>(&key(b'n', 2)).unwrap(), None);
        assert!(view.scan_prefix::<u64>(b"n", 10).unwrap().is_empty());
        drop(view);
        writer.join().unwrap();
        assert_eq!(
            store
                .read()
                .unwrap()
                .scan_prefix::<u64>(b"n", 10)
                .unwrap()
                .len(),
            2
        );
    });
}

#[test]
fn one_writer_at_a_time_so_read_modify_write_loses_nothing() {
    each_backend("counter", |store| {
        let store = Arc::new(store);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let store = Arc::clone(&store);
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        let mut txn = store.write().unwrap();
                        let n: u64 = txn.get(&key(b'k', 0)).unwrap().unwrap_or(0);
                        txn.put(key(b'k', 0), &(n + 1)).unwrap();
                        txn.commit().unwrap();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        assert_eq!(
            store.read().unwrap().get::<u64>(&key(b'k', 0)).unwrap(),
            Some(100)
        );
    });
}

/// Run a scoped write, again while it conflicts with another writer (as the session
/// does), with the whole store after a conflict that asks for it.
fn scoped<T>(store: &Store, mut work: impl FnMut(&mut super::WriteTxn<'_>) -> Result<T>) -> T {
    let mut whole_store = false;
    for _ in 0..200 {
        let mut txn = match whole_store {
            true => store.write().unwrap(),
            false => store.write_scoped().unwrap(),
        };
        match work(&mut txn).and_then(|value| txn.commit().map(|_| value)) {
            Ok(value) => return value,
            Err(err) if super::is_conflict(&err) => {
                whole_store |= super::needs_whole_store(&err);
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(err) => panic!("{err:?}"),
        }
    }
    panic!("a scoped write kept conflicting");
}

#[test]
fn scoped_writers_lose_no_update_of_a_customer_key_or_counter() {
    each_backend("scoped", |store| {
        let mut ids: Vec<u64> = on_threads(6, |thread| {
            (0..20u64)
                .map(|n| {
                    scoped(&store, |txn| {
                        // A customer's record, a key of no customer, a counter.
                        let account = key(b'a', n % 2);
                        let visits = key(b'V', 0);
                        let a: u64 = txn.get(&account)?.unwrap_or(0);
                        let v: u64 = txn.get(&visits)?.unwrap_or(0);
                        txn.put(account, &(a + 1))?;
                        txn.put(visits, &(v + 1))?;
                        let id = txn.next_id("next_test")?;
                        txn.put(key(b'o', thread * 1000 + n), &id)?;
                        Ok(id)
                    })
                })
                .collect::<Vec<u64>>()
        })
        .into_iter()
        .flatten()
        .collect();
        let read = store.read().unwrap();
        let total = |k: u64| read.get::<u64>(&key(b'a', k)).unwrap().unwrap_or(0);
        assert_eq!(total(0) + total(1), 120);
        assert_eq!(read.get::<u64>(&key(b'V', 0)).unwrap(), Some(120));
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "a counter value was handed out twice");
    });
}

#[test]
fn scoped_writers_of_two_customers_run_at_once_and_a_range_read_takes_the_store() {
    each_backend("parallel", |store| {
        if !store.backend().shared() {
            return;
        }
        let store = Arc::new(store);
        let first = store.write_scoped().unwrap();
        first.get::<u64>(&key(b'c', 1)).unwrap();
        let other = {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let mut txn = store.write_scoped().unwrap();
                txn.get::<u64>(&key(b'c', 2)).unwrap();
                txn.put(key(b'c', 2), &2u64).unwrap();
                txn.commit().unwrap();
                // The same customer waits, and gives up with a conflict.
                let txn = store.write_scoped().unwrap();
                let err = txn.get::<u64>(&key(b'c', 1)).unwrap_err();
                assert!(super::is_conflict(&err), "{err:?}");
            })
        };
        other.join().unwrap();
        let err = first.scan_prefix::<u64>(b"Z", 10).unwrap_err();
        assert!(super::needs_whole_store(&err), "{err:?}");
    });
}

/// A writer's locks, writes and COMMIT go to PostgreSQL in one flight. When the server
/// refuses one of the writes (here a key too long for the primary key's index), the
/// COMMIT after it only rolls back: the commit must fail and leave nothing, and the
/// store must take the next write.
#[test]
fn a_write_the_server_refuses_in_the_middle_of_a_batch_commits_nothing() {
    let Some((backend, _)) = postgres("refused-write") else {
        return;
    };
    let store = Store::new(backend, 0, Durability::Durable);
    // Bytes that do not compress: a B-tree entry holds at most about 2.7 KB.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let long_key: Vec<u8> = std::iter::once(b'c')
        .chain((0..12_000).map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        }))
        .collect();
    let mut txn = store.write().unwrap();
    txn.put(key(b'c', 1), &1u64).unwrap();
    txn.put(long_key.clone(), &2u64).unwrap();
    txn.put(key(b'c', 3), &3u64).unwrap();
    let refused = txn.commit().unwrap_err();
    assert_ne!(
        refused.code,
        crate::error::ErrorCode::Unavailable,
        "{refused:?}"
    );
    let view = store.read().unwrap();
    assert_eq!(view.get::<u64>(&key(b'c', 1)).unwrap(), None);
    assert_eq!(view.get::<u64>(&key(b'c', 3)).unwrap(), None);
    drop(view);
    let mut txn = store.write().unwrap();
    txn.put(key(b'c', 1), &11u64).unwrap();
    txn.commit().unwrap();
    assert_eq!(
        store.read().unwrap().get::<u64>(&key(b'c', 1)).unwrap(),
        Some(11)
    );
}
