//! Damaged stores: a store is built, closed and copied; each copy is damaged one way
//! (bytes flipped in the `db` file, `db` truncated, `conf`, snapshots or the
//! high-water mark damaged or deleted) and then opened and read in full.
//!
//! The property, for every copy and every read: the answer is either an error with code
//! `corrupted`, or exactly the figure the undamaged store gave. Never a panic reaching the
//! host, never another code, never a wrong balance. Each copy is opened twice, because
//! the first open may let sled "repair" the files, and the repaired store must keep the
//! same promise.
//!
//! Also: a store written by a newer (or unknown) format version is refused with
//! `unsupported_version` (the version record is rewritten directly through sled).

use crate::common;

use common::execute;
use pitstop_core::{Engine, EngineOptions, Error, ErrorCode, Program};
use serde_json::{Value, json};
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

const REGISTERED_AT: &str = "2025-03-01T09:00:00Z";
/// Reads are made as of this instant, so the figures do not depend on the clock.
const READ_AT: &str = "2025-04-01T10:00:00Z";
const CUSTOMERS: usize = 6;
const VISITS: usize = 30;

/// Everything the undamaged store says, read by `read_everything`.
#[derive(Debug, Clone, PartialEq)]
struct Figures {
    /// (operation, arguments, result) for every read except `store.check`.
    reads: Vec<(String, Value, Value)>,
    /// The `store.check` report.
    check: Value,
}

struct Original {
    /// Holds the original store and every damaged copy; removed when the test ends.
    dir: tempfile::TempDir,
    store: PathBuf,
    customers: Vec<u64>,
    orders: Vec<String>,
    figures: Figures,
}

/// A store with customers, visits (some paid partly with points), a manual adjustment
/// and a refund, closed so that every file is complete on disk.
fn build_original(prefix: &str) -> Original {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("temp dir");
    let store = dir.path().join("original");
    let engine = Engine::open(&store, EngineOptions::default()).expect("create store");
    execute(
        &engine,
        "program.set",
        json!({ "program": Program::example(), "at": REGISTERED_AT }),
    );
    let names = [
        "Иванов Иван",
        "Петров Пётр",
        "Сидоров Сидор",
        "Кузнецов Николай",
        "Смирнова Анна",
        "Попова Мария",
    ];
    let customers: Vec<u64> = names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let reply = execute(
                &engine,
                "customer.register",
                json!({ "full_name": name, "phone": format!("+791677700{index:02}"), "at": REGISTERED_AT }),
            );
            reply["customer"]["id"].as_u64().expect("customer id")
        })
        .collect();
    assert_eq!(customers.len(), CUSTOMERS);
    let mut orders = Vec::new();
    for n in 0..VISITS {
        let order = format!("ORD-{n:05}");
        let mut args = json!({
            "customer": { "id": customers[n % CUSTOMERS] },
            "lines": [
                { "sku": "L-TO", "name": "Замена масла", "kind": "labor", "qty": "1", "unit_price": format!("{}.00", 1500 + n * 37) },
                { "sku": "P-FLT", "name": "Фильтр масляный", "kind": "part", "qty": "1", "unit_price": "640.00" },
                { "sku": "G-WASH", "name": "Омыватель", "kind": "goods", "qty": "2", "unit_price": "199.50" }
            ],
            "order_id": order,
            "at": format!("2025-03-{:02}T12:00:00Z", 2 + n % 25),
        });
        if n % 4 == 3 {
            args["redeem"] = json!("max");
        }
        execute(&engine, "checkout.commit", args);
        orders.push(order);
    }
    execute(
        &engine,
        "points.adjust",
        json!({ "customer": { "id": customers[1] }, "points": "150", "reason": "компенсация", "operator": "admin", "at": "2025-03-20T10:00:00Z" }),
    );
    execute(
        &engine,
        "points.adjust",
        json!({ "customer": { "id": customers[2] }, "points": "-40", "reason": "исправление", "operator": "admin", "at": "2025-03-21T10:00:00Z" }),
    );
    execute(
        &engine,
        "checkout.refund",
        json!({ "order_id": orders[7], "reason": "возврат", "at": "2025-03-25T10:00:00Z" }),
    );
    let figures = read_everything(&engine, &customers, &orders).expect("the original store reads");
    assert_eq!(
        figures.check["problems"],
        json!([]),
        "the original store is sound"
    );
    drop(engine);
    Original {
        dir,
        store,
        customers,
        orders,
        figures,
    }
}

/// Every read the test compares: balances, statements, customer cards, visits, the
/// programme, and `store.check`. Stops at the first error.
fn read_everything(
    engine: &Engine,
    customers: &[u64],
    orders: &[String],
) -> Result<Figures, Error> {
    let mut reads = Vec::new();
    let mut read = |op: &str, args: Value| -> Result<(), Error> {
        let result = engine.execute(op, args.clone())?;
        reads.push((op.to_string(), args, result));
        Ok(())
    };
    for customer in customers {
        read(
            "points.balance",
            json!({ "customer": { "id": customer }, "at": READ_AT }),
        )?;
        read(
            "points.statement",
            json!({ "customer": { "id": customer }, "limit": 500 }),
        )?;
        read(
            "customer.get",
            json!({ "customer": { "id": customer }, "at": READ_AT }),
        )?;
    }
    for order in orders {
        read("visit.get", json!({ "order_id": order }))?;
    }
    read("program.get", json!({}))?;
    let check = engine.execute("store.check", json!({}))?;
    Ok(Figures { reads, check })
}

/// How a damaged copy behaved.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// Opening was refused with this code.
    OpenRefused(ErrorCode),
    /// It opened; some reads were refused (with these codes), the rest were exact.
    ReadsRefused(Vec<ErrorCode>),
    /// It opened and `store.check` listed problems; the reads were exact.
    CheckFoundProblems,
    /// Everything read exactly as before the damage.
    Intact,
}

/// Open the copy and read everything, one read at a time, comparing each answer with the
/// original. `Err` describes a broken promise.
fn judge_once(
    original: &Original,
    copy: &Path,
    open_may_also_fail_with: &[ErrorCode],
) -> Result<Outcome, String> {
    let engine = match Engine::open(copy, EngineOptions::default()) {
        Ok(engine) => engine,
        Err(err)
            if err.code == ErrorCode::Corrupted || open_may_also_fail_with.contains(&err.code) =>
        {
            return Ok(Outcome::OpenRefused(err.code));
        }
        Err(err) => {
            return Err(format!(
                "open failed with {} instead of corrupted: {}",
                err.code, err.message
            ));
        }
    };
    let mut refused = Vec::new();
    for (op, args, expected) in &original.figures.reads {
        match engine.execute(op, args.clone()) {
            Ok(value) if &value == expected => {}
            Ok(value) => {
                return Err(format!(
                    "{op} {args} returned a wrong figure:\n  got      {value}\n  expected {expected}"
                ));
            }
            Err(err) if err.code == ErrorCode::Corrupted => refused.push(err.code),
            Err(err) => {
                return Err(format!(
                    "{op} {args} failed with {} instead of corrupted: {}",
                    err.code, err.message
                ));
            }
        }
    }
    let check_found_problems = match engine.execute("store.check", json!({})) {
        Ok(report) if report == original.figures.check => false,
        // `store.check` reports damage as problems rather than failing: that is a detection.
        Ok(report)
            if report["problems"]
                .as_array()
                .is_some_and(|problems| !problems.is_empty()) =>
        {
            true
        }
        Ok(report) => {
            return Err(format!(
                "store.check found no problem but differs:\n  got      {report}\n  expected {}",
                original.figures.check
            ));
        }
        Err(err) if err.code == ErrorCode::Corrupted => {
            refused.push(err.code);
            false
        }
        Err(err) => {
            return Err(format!(
                "store.check failed with {} instead of corrupted: {}",
                err.code, err.message
            ));
        }
    };
    // The engine may also refuse after damage it could not see at first: a read that
    // succeeded must have been exact, which is checked above.
    drop(engine);
    Ok(if !refused.is_empty() {
        Outcome::ReadsRefused(refused)
    } else if check_found_problems {
        Outcome::CheckFoundProblems
    } else {
        Outcome::Intact
    })
}

/// Open and read the copy twice, each time under `catch_unwind`: a panic reaching the
/// caller is a broken promise.
fn judge(
    original: &Original,
    copy: &Path,
    open_may_also_fail_with: &[ErrorCode],
) -> Result<Vec<Outcome>, String> {
    let mut outcomes = Vec::new();
    for attempt in 1..=2 {
        match catch_unwind(AssertUnwindSafe(|| {
            judge_once(original, copy, open_may_also_fail_with)
        })) {
            Ok(Ok(outcome)) => outcomes.push(outcome),
            Ok(Err(violation)) => return Err(format!("open #{attempt}: {violation}")),
            Err(panic) => {
                let reason = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                return Err(format!(
                    "open #{attempt}: a panic reached the caller: {reason}"
                ));
            }
        }
    }
    Ok(outcomes)
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir(to).expect("create copy dir");
    for entry in fs::read_dir(from).expect("read store dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// Runs damaged copies and collects every broken promise, so one run reports all.
struct Harness<'a> {
    original: &'a Original,
    copies: usize,
    violations: Vec<String>,
    outcomes: Vec<(String, Vec<Outcome>)>,
}

impl<'a> Harness<'a> {
    fn new(original: &'a Original) -> Harness<'a> {
        Harness {
            original,
            copies: 0,
            violations: Vec::new(),
            outcomes: Vec::new(),
        }
    }

    /// Copy the original, apply `damage` to the copy's directory, judge it.
    fn case(&mut self, name: &str, damage: impl FnOnce(&Path)) {
        self.case_allowing(name, &[], damage);
    }

    /// Like `case`, with other codes the open may also fail with (none of them a figure).
    fn case_allowing(
        &mut self,
        name: &str,
        open_may_also_fail_with: &[ErrorCode],
        damage: impl FnOnce(&Path),
    ) {
        self.copies += 1;
        let copy = self
            .original
            .dir
            .path()
            .join(format!("copy-{}", self.copies));
        copy_dir(&self.original.store, &copy);
        damage(&copy);
        match judge(self.original, &copy, open_may_also_fail_with) {
            Ok(outcomes) => self.outcomes.push((name.to_string(), outcomes)),
            Err(violation) => self.violations.push(format!("{name}: {violation}")),
        }
        // Keep the disk use small: a failing copy is described by its case name.
        let _ = fs::remove_dir_all(&copy);
    }

    fn finish(self, family: &str) {
        let refused = self
            .outcomes
            .iter()
            .filter(|(_, outcomes)| outcomes.iter().any(|outcome| *outcome != Outcome::Intact))
            .count();
        eprintln!(
            "{family}: {} damaged copies, {} detected (refused or reported), {} read exactly as the original, {} broken promises",
            self.copies,
            refused,
            self.outcomes.len() - refused,
            self.violations.len()
        );
        for (name, outcomes) in &self.outcomes {
            eprintln!("  {name}: {outcomes:?}");
        }
        assert!(
            self.violations.is_empty(),
            "{family}: broken promises:\n{}",
            self.violations.join("\n")
        );
    }
}

fn flip_byte(file: &Path, offset: usize, mask: u8) {
    let mut bytes = fs::read(file).expect("read file");
    bytes[offset] ^= mask;
    fs::write(file, bytes).expect("write file");
}

fn truncate_file(file: &Path, length: u64) {
    let handle = fs::OpenOptions::new()
        .write(true)
        .open(file)
        .expect("open file");
    handle.set_len(length).expect("truncate");
    handle.sync_all().expect("sync");
}

/// Offsets of every occurrence of `needle` in `haystack`.
fn occurrences(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, window)| *window == needle)
        .map(|(at, _)| at)
        .collect()
}

#[test]
fn flipped_bytes_in_the_data_file_are_detected_or_harmless() {
    let original = build_original("pitstop-corrupt-flip-");
    let db = fs::read(original.store.join("db")).expect("read db");
    let mut offsets: Vec<usize> = Vec::new();
    // sled preallocates its segments, so most of the file is zeros. Thirty flips are
    // spread evenly over the bytes that hold data, where damage matters...
    let data_bytes: Vec<usize> = db
        .iter()
        .enumerate()
        .filter(|(_, byte)| **byte != 0)
        .map(|(at, _)| at)
        .collect();
    assert!(data_bytes.len() > 1000, "the data file holds data");
    for i in 0..30 {
        offsets.push(data_bytes[i * (data_bytes.len() - 1) / 29]);
    }
    // ...a few land in the zeros (a torn tail looks like this)...
    for i in 1..=4 {
        offsets.push(db.len() * i / 5);
    }
    // ...and some hit known records: the format version, order ids, a phone number and a
    // name (the first and the last copy of each, the last being the live one).
    let needles: [&[u8]; 4] = [
        b"format_version",
        b"ORD-00007",
        "+79167770003".as_bytes(),
        "Смирнова".as_bytes(),
    ];
    for needle in needles {
        let found = occurrences(&db, needle);
        assert!(
            !found.is_empty(),
            "{:?} is in the data file",
            String::from_utf8_lossy(needle)
        );
        offsets.push(found[0] + needle.len() / 2);
        offsets.push(found[found.len() - 1] + needle.len() / 2);
    }
    offsets.sort_unstable();
    offsets.dedup();
    let mut harness = Harness::new(&original);
    for (index, offset) in offsets.iter().enumerate() {
        // Vary the flipped bits so both single-bit and whole-byte damage are covered.
        let mask = [0x01, 0x80, 0xFF, 0x10][index % 4];
        harness.case(&format!("db byte {offset} ^ {mask:#04x}"), |copy| {
            flip_byte(&copy.join("db"), *offset, mask)
        });
    }
    // A run of zeros over live data (a lost sector).
    let last_order = *occurrences(&db, b"ORD-00029")
        .last()
        .expect("last order in db");
    let sector = last_order & !511;
    harness.case(&format!("db sector at {sector} zeroed"), |copy| {
        let path = copy.join("db");
        let mut bytes = fs::read(&path).expect("read db");
        bytes[sector..(sector + 512).min(db.len())].fill(0);
        fs::write(&path, bytes).expect("write db");
    });
    harness.finish("flipped bytes");
}

#[test]
fn a_truncated_data_file_is_detected() {
    let original = build_original("pitstop-corrupt-trunc-");
    let length = fs::metadata(original.store.join("db"))
        .expect("db metadata")
        .len();
    let db = fs::read(original.store.join("db")).expect("read db");
    let data_end = db.iter().rposition(|byte| *byte != 0).expect("data in db") as u64 + 1;
    let mut lengths = vec![
        0,
        1,
        8,
        100,
        4096,
        length / 8,
        length / 4,
        length / 3,
        length / 2,
        length * 3 / 4,
        length - 1,
    ];
    // Cuts inside the written part of the log, where the latest records are.
    for share in [1, 2, 3, 5, 8, 9] {
        lengths.push(data_end * share / 10);
    }
    lengths.push(data_end.saturating_sub(1));
    lengths.push(data_end.saturating_sub(100));
    lengths.sort_unstable();
    lengths.dedup();
    let mut harness = Harness::new(&original);
    for cut in lengths.into_iter().filter(|cut| *cut < length) {
        harness.case(
            &format!("db truncated to {cut} of {length} bytes"),
            |copy| truncate_file(&copy.join("db"), cut),
        );
    }
    harness.finish("truncated data file");
}

#[test]
fn damaged_side_files_are_detected_or_harmless() {
    let original = build_original("pitstop-corrupt-side-");
    let conf_len = fs::metadata(original.store.join("conf"))
        .expect("conf")
        .len() as usize;
    let snapshots: Vec<String> = fs::read_dir(&original.store)
        .expect("read store")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.starts_with("snap."))
        .collect();
    let mut harness = Harness::new(&original);
    harness.case("conf deleted", |copy| {
        fs::remove_file(copy.join("conf")).expect("remove conf")
    });
    harness.case("conf emptied", |copy| truncate_file(&copy.join("conf"), 0));
    harness.case("conf truncated by half", |copy| {
        truncate_file(&copy.join("conf"), conf_len as u64 / 2)
    });
    harness.case("conf replaced by garbage", |copy| {
        fs::write(copy.join("conf"), b"segment_size: banana\n").expect("write conf")
    });
    for offset in [0, conf_len / 3, conf_len / 2, conf_len - 1] {
        harness.case(&format!("conf byte {offset} flipped"), |copy| {
            flip_byte(&copy.join("conf"), offset, 0x04)
        });
    }
    for snapshot in &snapshots {
        harness.case(&format!("{snapshot} deleted"), |copy| {
            fs::remove_file(copy.join(snapshot)).expect("remove snapshot")
        });
        let snap_len = fs::metadata(original.store.join(snapshot))
            .expect("snapshot")
            .len() as usize;
        for offset in [0, snap_len / 2, snap_len - 1] {
            harness.case(&format!("{snapshot} byte {offset} flipped"), |copy| {
                flip_byte(&copy.join(snapshot), offset, 0x20)
            });
        }
        harness.case(&format!("{snapshot} truncated by half"), |copy| {
            truncate_file(&copy.join(snapshot), snap_len as u64 / 2)
        });
    }
    harness.case("pitstop.hwm deleted", |copy| {
        fs::remove_file(copy.join("pitstop.hwm")).expect("remove hwm")
    });
    harness.case("pitstop.hwm garbage", |copy| {
        fs::write(copy.join("pitstop.hwm"), b"\xff\xfe garbage!!").expect("write hwm")
    });
    harness.case("pitstop.hwm flipped", |copy| {
        flip_byte(&copy.join("pitstop.hwm"), 3, 0x40)
    });
    // A high-water mark above the store's sequence claims acknowledged writes were lost.
    harness.case("pitstop.hwm claims a later batch", |copy| {
        let path = copy.join("pitstop.hwm");
        let record = fs::read(&path).expect("read hwm");
        let seq = u64::from_le_bytes(record[..8].try_into().expect("8 bytes")) + 5;
        let mut forged = seq.to_le_bytes().to_vec();
        forged.extend_from_slice(&crc32fast::hash(&seq.to_le_bytes()).to_le_bytes());
        fs::write(&path, forged).expect("write hwm");
    });
    harness.case("blobs dir deleted", |copy| {
        let _ = fs::remove_dir_all(copy.join("blobs"));
    });
    // A directory with the store's other files but no data file is a damaged store.
    harness.case("db deleted", |copy| {
        fs::remove_file(copy.join("db")).expect("remove db")
    });
    // The forged mark must be refused, not read as an intact store.
    let forged = harness
        .outcomes
        .iter()
        .find(|(name, _)| name == "pitstop.hwm claims a later batch");
    if let Some((_, outcomes)) = forged {
        assert!(
            outcomes
                .iter()
                .all(|outcome| *outcome == Outcome::OpenRefused(ErrorCode::Corrupted)),
            "a lost tail must be refused: {outcomes:?}"
        );
    }
    harness.finish("side files");
}

/// The sealed encoding of a `u32` record as the store writes it: crc32 ++ bincode with
/// variable-length integers (one byte below 251, else 251 followed by 2 bytes, 252 by 4).
fn sealed_u32(value: u32) -> Vec<u8> {
    let payload: Vec<u8> = match value {
        0..=250 => vec![value as u8],
        251..=0xffff => [vec![251], (value as u16).to_le_bytes().to_vec()].concat(),
        _ => [vec![252], value.to_le_bytes().to_vec()].concat(),
    };
    let mut sealed = crc32fast::hash(&payload).to_le_bytes().to_vec();
    sealed.extend_from_slice(&payload);
    sealed
}

/// Rewrite (or remove) the store's format-version record directly through sled, the way
/// a newer build (or damage) would leave it. There is no public API for it, by design.
fn set_format_record(store: &Path, value: Option<Vec<u8>>) {
    let db = sled::Config::new()
        .path(store)
        .mode(sled::Mode::LowSpace)
        .flush_every_ms(None)
        .open()
        .expect("open with sled");
    let mut key = vec![0u8];
    key.extend_from_slice(b"format_version");
    match value {
        Some(value) => db.insert(key, value).expect("insert"),
        None => db.remove(key).expect("remove"),
    };
    db.flush().expect("flush");
}

#[test]
fn a_store_of_another_format_version_is_refused() {
    let dir = tempfile::Builder::new()
        .prefix("pitstop-format-")
        .tempdir()
        .expect("temp dir");
    let store = dir.path().join("store");
    let engine = Engine::open(&store, EngineOptions::default()).expect("create");
    execute(
        &engine,
        "program.set",
        json!({ "program": Program::example() }),
    );
    let customer = execute(
        &engine,
        "customer.register",
        json!({ "full_name": "Иванов Иван", "phone": "+79160000001" }),
    );
    let customer = customer["customer"]["id"].as_u64().expect("id");
    let balance = execute(
        &engine,
        "points.balance",
        json!({ "customer": { "id": customer }, "at": READ_AT }),
    );
    drop(engine);

    for newer in [3u32, 7, u32::MAX] {
        set_format_record(&store, Some(sealed_u32(newer)));
        let err = Engine::open(&store, EngineOptions::default())
            .err()
            .expect("a newer format must be refused");
        assert_eq!(
            err.code,
            ErrorCode::UnsupportedVersion,
            "format {newer}: {err:?}"
        );
        assert_eq!(err.details["found"], json!(newer), "{err:?}");
        assert_eq!(err.details["supported"], json!(2), "{err:?}");
        assert!(
            err.message.contains(&store.display().to_string()),
            "the message names the store: {err:?}"
        );
    }
    set_format_record(&store, Some(sealed_u32(0)));
    let err = Engine::open(&store, EngineOptions::default())
        .err()
        .expect("format 0 is unknown");
    assert_eq!(err.code, ErrorCode::UnsupportedVersion, "{err:?}");

    // A version record that fails its checksum is damage, not a version.
    let mut damaged = sealed_u32(1);
    damaged[4] ^= 0x01;
    set_format_record(&store, Some(damaged));
    let err = Engine::open(&store, EngineOptions::default())
        .err()
        .expect("a damaged version record");
    assert_eq!(err.code, ErrorCode::Corrupted, "{err:?}");

    set_format_record(&store, None);
    let err = Engine::open(&store, EngineOptions::default())
        .err()
        .expect("no version record");
    assert_eq!(err.code, ErrorCode::Corrupted, "{err:?}");

    // Written back as a build writes it, the store opens with its figures: the forged
    // records above were exactly what the engine reads. Format 1 (the previous one) is
    // still read, and upgraded at open (tests/suite/format_upgrade.rs).
    set_format_record(&store, Some(sealed_u32(1)));
    let engine = Engine::open(&store, EngineOptions::default()).expect("format 1 opens");
    assert_eq!(
        execute(
            &engine,
            "points.balance",
            json!({ "customer": { "id": customer }, "at": READ_AT })
        ),
        balance
    );
    assert_eq!(
        execute(&engine, "store.check", json!({}))["problems"],
        json!([])
    );
}

#[test]
fn the_original_reads_the_same_after_a_plain_reopen() {
    // The baseline the other tests rely on: an undamaged copy is `Intact` both times.
    let original = build_original("pitstop-corrupt-baseline-");
    let mut harness = Harness::new(&original);
    harness.case("no damage", |_| {});
    assert_eq!(harness.outcomes.len(), 1, "{:?}", harness.violations);
    assert_eq!(
        harness.outcomes[0].1,
        vec![Outcome::Intact, Outcome::Intact]
    );
    assert!(original.customers.len() == CUSTOMERS && original.orders.len() == VISITS);
    harness.finish("baseline");
}

/// A process killed while sled wrote a snapshot leaves `snap.<lsn>.generating` behind
/// (sled writes snapshots during open too). sled's own reader would take it for the
/// newest snapshot and refuse the store as corrupt; the store must open intact instead.
/// Found by the SIGKILL test, which once failed on reopen with "sled reports corruption".
#[test]
fn an_unfinished_snapshot_left_by_a_kill_is_ignored() {
    let original = build_original("pitstop-corrupt-snapshot-");
    let snapshots: Vec<PathBuf> = fs::read_dir(&original.store)
        .expect("store dir")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| {
            path.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("snap."))
        })
        .collect();
    let mut harness = Harness::new(&original);
    harness.case("empty unfinished snapshot", |store| {
        fs::write(store.join("snap.FFFFFFFFFFFFFFF0.generating"), b"").expect("write");
    });
    harness.case("half-written unfinished snapshot", |store| {
        let mut bytes = vec![0x5a_u8; 700];
        bytes.extend_from_slice(&[1, 2, 3]);
        fs::write(store.join("snap.FFFFFFFFFFFFFFF1.generating"), bytes).expect("write");
    });
    if let Some(snapshot) = snapshots.first() {
        let name = snapshot
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        harness.case("truncated copy of the last snapshot, unfinished", |store| {
            let bytes = fs::read(store.join(&name)).expect("read snapshot");
            let unfinished = store.join(format!("{name}F.generating"));
            fs::write(&unfinished, &bytes[..bytes.len() / 2]).expect("write");
        });
    }
    for (name, outcomes) in &harness.outcomes {
        assert_eq!(
            outcomes,
            &vec![Outcome::Intact, Outcome::Intact],
            "{name}: the store must open and read as the original"
        );
    }
    harness.finish("unfinished snapshots");
}
