//! The daily job: burn expired lots, release pending points whose day has come, lapse
//! old holds, grant birthday bonuses, review tiers whose window moved. Work is found
//! through date indexes, so a day costs what is due that day, not the size of the base.
//! Running it twice for the same date changes nothing; a missed day is caught up.

use crate::context::{Ctx, days_until_birthday};
use crate::customer::{self, CustomerStatus};
use crate::error::{Error, Result};
use crate::ledger::{Book, Credit, EntryKind};
use crate::program::Program;
use crate::store::keys::{self, KeyBuilder, KeyReader, tag};
use crate::store::{Reader, Store, WriteTxn};
use crate::tier;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Arguments of `jobs.daily`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DailyArgs {
    /// Local date to run for (default: today in the programme's timezone).
    #[serde(default)]
    pub date: Option<NaiveDate>,
}

/// What a daily run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DailyReport {
    /// Date run for.
    pub date: Option<NaiveDate>,
    /// Customers whose points were settled.
    pub accounts_settled: u64,
    /// Points burned.
    pub points_expired: Decimal,
    /// Points released from pending.
    pub points_released: Decimal,
    /// Holds lapsed.
    pub holds_expired: u64,
    /// Birthday bonuses granted.
    pub birthday_bonuses: u64,
    /// Birthday points granted.
    pub birthday_points: Decimal,
    /// Customers whose tier was reviewed.
    pub tiers_reviewed: u64,
    /// Customers whose tier changed.
    pub tiers_changed: u64,
}

/// Customers handled per transaction: bounds the size of one batch.
const CUSTOMERS_PER_BATCH: usize = 256;
/// Index entries read per scan.
const SCAN_CHUNK: usize = 1024;
/// Days of missed birthdays caught up at most.
const CATCH_UP_DAYS_MAX: i64 = 31;

fn last_run_key() -> Vec<u8> {
    keys::meta("daily_last_date")
}

/// The instant the daily job treats as "the start of `date`" in the programme's zone.
pub fn start_of_day(ctx: &Ctx, date: NaiveDate) -> Result<DateTime<Utc>> {
    let program = ctx.program()?;
    let naive = date
        .and_hms_opt(0, 0, 0)
        .ok_or_else(|| Error::internal("midnight does not exist"))?;
    use chrono::TimeZone;
    let local = program
        .tz()
        .from_local_datetime(&naive)
        .earliest()
        .ok_or_else(|| {
            Error::invalid(
                "date",
                format!("{date} has no midnight in {}", program.timezone),
            )
        })?;
    Ok(local.with_timezone(&Utc))
}

/// Run the daily job. Commits in bounded batches; each batch is atomic and the whole
/// job is idempotent, so a crash in the middle is repaired by running it again.
pub fn daily(store: &Store, ctx: &Ctx, args: &DailyArgs) -> Result<(DailyReport, u64)> {
    let program = ctx.program()?;
    let date = args.date.unwrap_or(ctx.today);
    let day_ctx = Ctx {
        at: start_of_day(ctx, date)?,
        today: date,
        program: ctx.program.clone(),
        branch: ctx.branch.clone(),
    };
    let mut report = DailyReport {
        date: Some(date),
        ..DailyReport::default()
    };
    settle_due_accounts(store, &day_ctx, &mut report)?;
    if let Some(bonus) = &program.birthday_bonus {
        grant_birthdays(store, &day_ctx, bonus.days_before, &mut report)?;
    }
    review_tiers(store, program, date, &mut report)?;
    let mut txn = store.write()?;
    let last: Option<NaiveDate> = txn.get(&last_run_key())?;
    if last.is_none_or(|d| d < date) {
        txn.put(last_run_key(), &date)?;
    }
    txn.put(KeyBuilder::new(tag::DAILY).date(date).build(), &report)?;
    let last_seq = txn.commit()?;
    Ok((report, last_seq))
}

/// Step 1: settle the accounts with lots to burn, points to release or holds to lapse by
/// the end of the day, in batches of customers.
fn settle_due_accounts(store: &Store, day_ctx: &Ctx, report: &mut DailyReport) -> Result<()> {
    let date = day_ctx.today;
    let expiry_upto = KeyBuilder::new(tag::EXPIRY)
        .date(date + Duration::days(1))
        .build();
    let release_upto = KeyBuilder::new(tag::RELEASE)
        .date(date + Duration::days(1))
        .build();
    let hold_upto = KeyBuilder::new(tag::HOLD_EXPIRY)
        .i64(day_ctx.at.timestamp_micros() + 1)
        .build();
    loop {
        let mut txn = store.write()?;
        // customer -> the due index keys that name them; all are handled by one settle.
        let mut due: std::collections::BTreeMap<u64, Vec<Vec<u8>>> =
            std::collections::BTreeMap::new();
        for (table, upto) in [(tag::EXPIRY, &expiry_upto), (tag::RELEASE, &release_upto)] {
            for (key, _) in txn.scan_raw(&[table], upto, SCAN_CHUNK, false)? {
                let mut fields = KeyReader::of(&key, table, "lot date index")?;
                fields.date()?;
                let customer = fields.u64()?;
                due.entry(customer).or_default().push(key);
            }
        }
        for (key, _) in txn.scan_raw(&[tag::HOLD_EXPIRY], &hold_upto, SCAN_CHUNK, false)? {
            let mut fields = KeyReader::of(&key, tag::HOLD_EXPIRY, "hold expiry index")?;
            fields.i64()?;
            let hold_id = fields.u64()?;
            let customer = crate::ledger::load_hold(&txn, hold_id)?.customer;
            due.entry(customer).or_default().push(key);
        }
        if due.is_empty() {
            return Ok(());
        }
        for (customer, index_keys) in due.into_iter().take(CUSTOMERS_PER_BATCH) {
            settle_customer(&mut txn, day_ctx, customer, report)?;
            for key in index_keys {
                txn.delete(key);
            }
        }
        txn.commit()?;
    }
}

/// Step 2: birthday bonuses `days_before` the birthday, catching up the days missed since
/// the last run (at most [`CATCH_UP_DAYS_MAX`]).
fn grant_birthdays(
    store: &Store,
    day_ctx: &Ctx,
    days_before: u32,
    report: &mut DailyReport,
) -> Result<()> {
    let date = day_ctx.today;
    let last: Option<NaiveDate> = store.read()?.get(&last_run_key())?;
    let first_day = match last {
        Some(last) if last < date => {
            (last + Duration::days(1)).max(date - Duration::days(CATCH_UP_DAYS_MAX))
        }
        Some(_) => date,
        None => date,
    };
    let mut day = first_day;
    while day <= date {
        let birthday_day = day + Duration::days(i64::from(days_before));
        let mut candidates = birthdays_on(store, birthday_day)?;
        if birthday_day.month() == 2
            && birthday_day.day() == 28
            && NaiveDate::from_ymd_opt(birthday_day.year(), 2, 29).is_none()
        {
            candidates.extend(birthdays_on_md(store, 2, 29)?);
        }
        for chunk in candidates.chunks(CUSTOMERS_PER_BATCH) {
            let mut txn = store.write()?;
            for customer in chunk {
                grant_birthday(&mut txn, day_ctx, *customer, birthday_day, report)?;
            }
            txn.commit()?;
        }
        day += Duration::days(1);
    }
    Ok(())
}

/// Step 3: tier reviews for visits leaving the window by `date`.
fn review_tiers(
    store: &Store,
    program: &Program,
    date: NaiveDate,
    report: &mut DailyReport,
) -> Result<()> {
    let review_upto = KeyBuilder::new(tag::TIER_REVIEW)
        .date(date + Duration::days(1))
        .build();
    loop {
        let mut txn = store.write()?;
        let rows = txn.scan_raw(
            &[tag::TIER_REVIEW],
            &review_upto,
            CUSTOMERS_PER_BATCH,
            false,
        )?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut seen = BTreeSet::new();
        for (key, _) in rows {
            let mut fields = KeyReader::of(&key, tag::TIER_REVIEW, "tier review index")?;
            fields.date()?;
            let customer_id = fields.u64()?;
            txn.delete(key);
            if !seen.insert(customer_id) {
                continue;
            }
            let mut customer = customer::load(&txn, customer_id)?;
            let (before, after) = tier::reevaluate(
                &mut txn,
                program,
                &mut customer,
                date,
                tier::MoveReason::Review,
            )?;
            report.tiers_reviewed += 1;
            if before != after {
                report.tiers_changed += 1;
            }
        }
        txn.commit()?;
    }
}

fn settle_customer(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    customer: u64,
    report: &mut DailyReport,
) -> Result<()> {
    let mut book = Book::load(txn, customer)?;
    book.settle(ctx)?;
    for entry in book.new_entries() {
        match entry.kind {
            EntryKind::Expiry => report.points_expired -= entry.amount,
            EntryKind::Release => report.points_released -= entry.pending_change,
            EntryKind::HoldExpiry => report.holds_expired += 1,
            _ => {}
        }
    }
    book.save(txn)?;
    report.accounts_settled += 1;
    Ok(())
}

fn birthdays_on(store: &Store, day: NaiveDate) -> Result<Vec<u64>> {
    birthdays_on_md(store, day.month(), day.day())
}

fn birthdays_on_md(store: &Store, month: u32, day: u32) -> Result<Vec<u64>> {
    let prefix = customer::birthday_prefix(month, day);
    let view = store.read()?;
    let mut out = Vec::new();
    let mut start = prefix.clone();
    let end = keys::prefix_end(&prefix);
    loop {
        let chunk = view.scan_raw(&start, &end, SCAN_CHUNK, false)?;
        let Some((last, _)) = chunk.last() else { break };
        let mut next = last.clone();
        next.push(0);
        for (key, _) in &chunk {
            let mut fields = KeyReader::of(key, tag::BIRTHDAY, "birthday index")?;
            fields.u16()?;
            out.push(fields.u64()?);
        }
        start = next;
    }
    Ok(out)
}

fn grant_birthday(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    customer_id: u64,
    birthday_day: NaiveDate,
    report: &mut DailyReport,
) -> Result<()> {
    let program = ctx.program()?;
    let Some(bonus) = &program.birthday_bonus else {
        return Ok(());
    };
    let marker = KeyBuilder::new(tag::BIRTHDAY_GRANT)
        .u64(customer_id)
        .u16(birthday_day.year() as u16)
        .build();
    if txn.contains(&marker)? {
        return Ok(());
    }
    let customer = customer::load(txn, customer_id)?;
    let Some(birthday) = customer.birthday else {
        return Ok(());
    };
    if customer.status == CustomerStatus::Blocked
        || days_until_birthday(birthday, ctx.today) > i64::from(bonus.days_before)
    {
        return Ok(());
    }
    let mut book = Book::load(txn, customer_id)?;
    book.settle(ctx)?;
    let expires_on = birthday_day + Duration::days(i64::from(bonus.days_after));
    book.credit(
        ctx,
        Credit::new(EntryKind::Birthday, bonus.points)
            .expiring(Some(expires_on))
            .because(format!("birthday {}", birthday_day.year())),
    )?;
    book.save(txn)?;
    txn.put(marker, &ctx.today)?;
    report.birthday_bonuses += 1;
    report.birthday_points += bonus.points;
    Ok(())
}
