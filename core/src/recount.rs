//! The report aggregates recounted from history: what `store.check` compares the stored
//! day cells, visit days and points totals with, and what `store.rebuild_aggregates`
//! writes.
//!
//! It reads each customer's visits through the per-customer visit index, so it holds one
//! customer's days at a time plus the cells (one per day and scope: bounded by the
//! period the store covers, not by its customers or visits).

use crate::aggregate::{
    self, AccountFigures, DayCell, Days, Layout, PointsTotals, RefereeFigures, ReferralTotals,
    Scope, bump, customer_rows,
};
use crate::context::Ctx;
use crate::customer;
use crate::error::{Error, Result};
use crate::feedback;
use crate::ledger;
use crate::referral;
use crate::store::keys::{KeyBuilder, KeyReader, prefix_end, tag};
use crate::store::{Reader, Store, WriteTxn};
use crate::visit::{self, DatedVisit, VisitSummary};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const CHUNK: usize = 4096;

/// The cells by (date, scope, part).
pub type Cells = BTreeMap<(NaiveDate, Scope, Option<u8>), DayCell>;

/// The points totals by part.
pub type Totals = BTreeMap<Option<u8>, PointsTotals>;

/// One customer's visit-day rows as they should be, by (scope, date).
pub type Rows = BTreeMap<(Scope, NaiveDate), Days>;

/// Recount everything from history, in parts as `layout` keeps them: `each(customer,
/// rows)` for every customer with a visit; returns the cells and the points totals.
pub fn recount<R: Reader>(
    reader: &R,
    layout: Layout,
    mut each: impl FnMut(u64, &Rows) -> Result<()>,
) -> Result<(Cells, Totals)> {
    let mut cells = Cells::new();
    let mut current: Option<(u64, Rows)> = None;
    let end = prefix_end(&[tag::CUSTOMER_VISIT]);
    let mut start = vec![tag::CUSTOMER_VISIT];
    loop {
        let chunk = reader.scan_range::<VisitSummary>(&start, &end, CHUNK, false)?;
        let Some((last, _)) = chunk.last() else { break };
        start = last.clone();
        start.push(0);
        for (key, summary) in chunk {
            let mut fields = KeyReader::of(&key, tag::CUSTOMER_VISIT, "customer's visits")?;
            let customer = fields.u64()?;
            let date = fields.date()?;
            if current.as_ref().is_none_or(|(c, _)| *c != customer) {
                if let Some((done, rows)) = current.take() {
                    close_customer(&mut cells, layout.part(done), &rows)?;
                    each(done, &rows)?;
                }
                current = Some((customer, Rows::new()));
            }
            let Some((_, rows)) = current.as_mut() else {
                return Err(Error::internal("recount lost its customer"));
            };
            let part = layout.part(customer);
            add_visit(
                reader,
                (&mut cells, part),
                rows,
                customer,
                date,
                summary.visit,
            )?;
        }
    }
    if let Some((done, rows)) = current.take() {
        close_customer(&mut cells, layout.part(done), &rows)?;
        each(done, &rows)?;
    }
    add_feedback(reader, layout, &mut cells)?;
    let mut totals = Totals::new();
    ledger::for_each_account(reader, |customer| {
        let account = ledger::load_account(reader, customer)?;
        let figures: AccountFigures = account.figures();
        totals
            .entry(layout.part(customer))
            .or_default()
            .add(&figures, 1)
    })?;
    Ok((cells, totals))
}

fn add_visit<R: Reader>(
    reader: &R,
    (cells, part): (&mut Cells, Option<u8>),
    rows: &mut Rows,
    customer: u64,
    date: NaiveDate,
    id: u64,
) -> Result<()> {
    let dated_key = KeyBuilder::new(tag::VISIT_BY_DATE)
        .date(date)
        .u64(id)
        .build();
    let dated: DatedVisit = reader.get(&dated_key)?.ok_or_else(|| {
        Error::internal(format!(
            "visit {id} of customer {customer} is not in the date index"
        ))
    })?;
    if dated.customer != customer {
        return Err(Error::internal(format!(
            "visit {id} is customer {customer}'s by their index, {}'s by the date index",
            dated.customer
        )));
    }
    let scopes = Scope::counting(visit::load(reader, id)?.branch.as_deref());
    let counted = u32::from(dated.counted);
    for scope in scopes {
        if dated.counted {
            let cell = cells.entry((date, scope.clone(), part)).or_default();
            cell.visits += 1;
            cell.revenue += dated.net;
            cell.points += dated.points;
            cell.accrual += dated.accrual;
        }
        let any = u32::from(scope == Scope::Shop);
        if any + counted == 0 {
            continue;
        }
        let days = rows.entry((scope, date)).or_default();
        days.any += any;
        days.counted += counted;
    }
    Ok(())
}

/// Every piece of feedback counted into the cells of its day.
fn add_feedback<R: Reader>(reader: &R, layout: Layout, cells: &mut Cells) -> Result<()> {
    let end = prefix_end(&[tag::FEEDBACK_BY_DATE]);
    let mut start = vec![tag::FEEDBACK_BY_DATE];
    loop {
        let chunk = reader.scan_raw(&start, &end, CHUNK, false)?;
        let Some((last, _)) = chunk.last() else {
            return Ok(());
        };
        start = last.clone();
        start.push(0);
        for (key, _) in chunk {
            let mut fields = KeyReader::of(&key, tag::FEEDBACK_BY_DATE, "feedback date index")?;
            let date = fields.date()?;
            let given = feedback::load(reader, fields.u64()?)?;
            let branch = feedback::branch_of(reader, &given)?;
            for scope in Scope::counting(branch.as_deref()) {
                let part = layout.part(given.customer);
                let cell = cells.entry((date, scope, part)).or_default();
                aggregate::add_feedback(cell, given.employee.as_deref(), &given.tally());
            }
        }
    }
}

/// A customer's visit days counted into the cells' `firsts` and `gaps`.
fn close_customer(cells: &mut Cells, part: Option<u8>, rows: &Rows) -> Result<()> {
    let first = rows
        .iter()
        .find(|((scope, _), days)| *scope == Scope::Shop && days.any > 0)
        .map(|((_, date), _)| *date);
    let mut previous: Option<(&Scope, NaiveDate)> = None;
    for ((scope, date), days) in rows {
        if days.counted == 0 {
            continue;
        }
        let cell = cells.entry((*date, scope.clone(), part)).or_default();
        match previous {
            Some((s, p)) if s == scope => bump(&mut cell.gaps, days_between(p, *date)?, 1)?,
            _ => {
                let first =
                    first.ok_or_else(|| Error::internal("a visit day without a first visit"))?;
                bump(&mut cell.firsts, days_between(first, *date)?, 1)?;
            }
        }
        previous = Some((scope, *date));
    }
    Ok(())
}

fn days_between(earlier: NaiveDate, later: NaiveDate) -> Result<u32> {
    u32::try_from((later - earlier).num_days())
        .map_err(|_| Error::internal(format!("visit day {later} is before {earlier}")))
}

/// Recount the referral totals from the links, in key order: `referee(id, figures)` for
/// every referee, `referrer(id, totals)` when a referrer's referees are all counted;
/// returns the totals over every referral. Holds one referrer's totals at a time.
pub fn recount_referrals<R: Reader>(
    reader: &R,
    mut referee: impl FnMut(u64, &RefereeFigures) -> Result<()>,
    mut referrer: impl FnMut(u64, &ReferralTotals) -> Result<()>,
) -> Result<ReferralTotals> {
    let mut all = ReferralTotals::default();
    let mut current: Option<(u64, ReferralTotals)> = None;
    let end = prefix_end(&[tag::REFERRAL_LINK]);
    let mut start = vec![tag::REFERRAL_LINK];
    loop {
        let chunk = reader.scan_raw(&start, &end, CHUNK, false)?;
        let Some((last, _)) = chunk.last() else { break };
        start = last.clone();
        start.push(0);
        for (key, _) in chunk {
            let (by, id) = referral::link_ids(&key)?;
            let record = referral::load(reader, id)?;
            if record.referrer != Some(by) {
                return Err(Error::internal(format!(
                    "referral link {by} -> {id}: the referee's record names {:?}",
                    record.referrer
                )));
            }
            let figures = referral::figures(&record, by, customer::load(reader, id)?.total_spend);
            referee(id, &figures)?;
            if current.as_ref().is_none_or(|(r, _)| *r != by) {
                if let Some((done, totals)) = current.take() {
                    referrer(done, &totals)?;
                }
                current = Some((by, ReferralTotals::default()));
            }
            if let Some((_, totals)) = current.as_mut() {
                totals.add(&figures, 1)?;
            }
            all.add(&figures, 1)?;
        }
    }
    if let Some((done, totals)) = current.take() {
        referrer(done, &totals)?;
    }
    Ok(all)
}

/// Compare the stored referral totals and referees' figures with a recount.
fn verify_referrals<R: Reader>(reader: &R, note: &mut impl FnMut(String)) -> Result<()> {
    let mut referees = 0usize;
    let mut referrers = 0usize;
    let mut differ = Vec::new();
    let mut differ_totals = Vec::new();
    let all = recount_referrals(
        reader,
        |id, figures| {
            referees += 1;
            if aggregate::referee_figures(reader, id)?.as_ref() != Some(figures) {
                differ.push(format!(
                    "aggregates: referee {id}'s referral figures differ from their records"
                ));
            }
            Ok(())
        },
        |id, totals| {
            referrers += 1;
            if aggregate::referral_totals(reader, Some(id))? != *totals {
                differ_totals.push(format!(
                    "aggregates: referrer {id}'s referral totals differ from their referees"
                ));
            }
            Ok(())
        },
    )?;
    differ.into_iter().chain(differ_totals).for_each(&mut *note);
    if !same_totals(&aggregate::referral_totals(reader, None)?, &all) {
        note("aggregates: the referral totals differ from the referees".to_string());
    }
    let (stored_referees, stored_referrers) = count_referral_rows(reader)?;
    if stored_referees != referees || stored_referrers != referrers {
        note(format!(
            "aggregates: {stored_referees} referees and {stored_referrers} referrers counted, \
             {referees} and {referrers} linked"
        ));
    }
    Ok(())
}

/// Totals equal by value (the stored ones of an empty store may be absent or zero).
fn same_totals(a: &ReferralTotals, b: &ReferralTotals) -> bool {
    a.referees == b.referees
        && a.rewarded == b.rewarded
        && a.points == b.points
        && a.revenue == b.revenue
}

fn count_referral_rows<R: Reader>(reader: &R) -> Result<(usize, usize)> {
    let mut referees = 0;
    let mut after = None;
    loop {
        let chunk = aggregate::all_referee_figures(reader, after, CHUNK)?;
        let Some((last, _)) = chunk.last() else { break };
        after = Some(*last);
        referees += chunk.len();
    }
    let mut referrers = 0;
    let mut after = None;
    loop {
        let chunk = aggregate::referrers_counted(reader, after, CHUNK)?;
        let Some(last) = chunk.last() else { break };
        after = Some(*last);
        referrers += chunk.len();
    }
    Ok((referees, referrers))
}

/// What `store.rebuild_aggregates` did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Rebuilt {
    /// Customers with visits.
    pub customers: u64,
    /// Day cells written.
    pub cells: u64,
    /// Visit-day rows written.
    pub visit_days: u64,
}

/// Arguments of `store.rebuild_aggregates` (none).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebuildArgs {}

/// Throw the aggregates away and write them again from history, in one batch: a store
/// written before them (or one `store.check` finds wrong) gets exact cells. Its batch
/// holds one row per customer's visit day: the store's size decides its memory.
pub fn rebuild(txn: &mut WriteTxn<'_>, _ctx: &Ctx, _args: RebuildArgs) -> Result<Rebuilt> {
    aggregate::unmark(txn);
    while aggregate::clear_some(txn, CHUNK)? {}
    let mut written: Vec<(u64, Rows)> = Vec::new();
    let mut rebuilt = Rebuilt::default();
    // A rebuilt store keeps its cells in parts, whatever it kept before.
    let (cells, totals) = recount(&*txn, Layout::PartsByCustomer, |customer, rows| {
        written.push((customer, rows.clone()));
        Ok(())
    })?;
    for (customer, rows) in written {
        rebuilt.customers += 1;
        for ((scope, date), days) in rows {
            aggregate::put_row(txn, customer, &scope, date, days)?;
            rebuilt.visit_days += 1;
        }
    }
    for ((date, scope, part), cell) in &cells {
        aggregate::put_cell(txn, *date, scope, *part, cell)?;
        rebuilt.cells += 1;
    }
    for (part, part_totals) in &totals {
        aggregate::put_points_totals(txn, *part, part_totals)?;
    }
    let mut figures: Vec<(u64, RefereeFigures)> = Vec::new();
    let mut referrers: Vec<(u64, ReferralTotals)> = Vec::new();
    let all = recount_referrals(
        &*txn,
        |id, f| {
            figures.push((id, f.clone()));
            Ok(())
        },
        |id, t| {
            referrers.push((id, t.clone()));
            Ok(())
        },
    )?;
    for (id, f) in &figures {
        aggregate::put_referee_figures(txn, *id, f)?;
    }
    for (id, t) in &referrers {
        aggregate::put_referral_totals(txn, Some(*id), t)?;
    }
    aggregate::put_referral_totals(txn, None, &all)?;
    aggregate::mark_ready(txn)?;
    Ok(rebuilt)
}

/// Compare the stored aggregates with a recount: `note` gets each difference.
pub fn verify<R: Reader>(reader: &R, mut note: impl FnMut(String)) -> Result<()> {
    let Some(layout) = aggregate::layout(reader)? else {
        return Err(Error::internal("the aggregates are not marked complete"));
    };
    let (cells, totals) = recount(reader, layout, |customer, rows| {
        let stored = customer_rows(reader, customer)?;
        let mut found: Rows = Rows::new();
        for (key, days) in stored {
            let (_, scope, date) = aggregate::read_row_key(&key)?;
            found.insert((scope, date), days);
        }
        if found != *rows {
            note(format!(
                "aggregates: customer {customer}'s visit days differ from their visits"
            ));
        }
        Ok(())
    })?;
    let mut after: Option<Vec<u8>> = None;
    let mut seen = 0usize;
    loop {
        let chunk = aggregate::all_cells(reader, after.as_deref(), CHUNK)?;
        let Some((last, ..)) = chunk.last() else {
            break;
        };
        after = Some(last.clone());
        for (_, date, scope, part, cell) in chunk {
            seen += 1;
            let mut label = match &scope {
                Scope::Shop => "the shop".to_string(),
                Scope::Branch(b) => format!("branch {b:?}"),
            };
            if let Some(part) = part {
                label.push_str(&format!(", part {part}"));
            }
            match cells.get(&(date, scope, part)) {
                Some(expected) if *expected == cell => {}
                Some(_) => note(format!(
                    "aggregates: the day cell of {date} for {label} differs from its visits"
                )),
                None => note(format!(
                    "aggregates: a day cell of {date} for {label} has no visits"
                )),
            }
        }
    }
    if seen != cells.len() {
        note(format!(
            "aggregates: {} day cells stored, {} days with visits",
            seen,
            cells.len()
        ));
    }
    let stored: Totals = aggregate::points_totals_parts(reader)?
        .into_iter()
        .collect();
    // A part with no account is the same as an empty one.
    let non_empty = |totals: &Totals| -> Totals {
        totals
            .iter()
            .filter(|(_, t)| **t != PointsTotals::default())
            .map(|(p, t)| (*p, t.clone()))
            .collect()
    };
    if non_empty(&stored) != non_empty(&totals) {
        note("aggregates: the points totals differ from the accounts".to_string());
    }
    verify_referrals(reader, &mut note)
}

/// A store with no visits and no accounts has complete (empty) aggregates: mark them so.
/// A store written before the aggregates existed keeps no mark until a rebuild, and its
/// reports scan history.
pub fn mark_if_new(store: &Store) -> Result<()> {
    {
        let reader = store.read()?;
        if aggregate::ready(&reader)? {
            return Ok(());
        }
        for table in [tag::VISIT_BY_DATE, tag::ACCOUNT, tag::DAY_CELL] {
            let start = [table];
            if !reader
                .scan_raw(&start, &prefix_end(&start), 1, false)?
                .is_empty()
            {
                return Ok(());
            }
        }
    }
    let mut txn = store.write()?;
    aggregate::mark_ready(&mut txn)?;
    txn.commit()?;
    Ok(())
}
