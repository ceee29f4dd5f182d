//! Feedback: ratings, reviews, complaints and praise tied to a visit and an employee
//! (the answer to a quality-control call, a review left at the desk), an optional
//! points bonus for it through the ledger (once per visit), and the complaints report
//! by employee and by month.

use crate::context::{Ctx, must, next_id};
use crate::customer::{self, Customer, CustomerRef, CustomerStatus};
use crate::error::{Error, Result};
use crate::ledger::{Book, Credit, EntryKind};
use crate::normalize::{self, NOTES_CHARS_MAX, TEXT_CHARS_MAX};
pub use crate::program::feedback_rules::{FeedbackKind, FeedbackRules};
use crate::store::keys::{KeyBuilder, KeyReader, tag};
use crate::store::{Reader, WriteTxn};
use crate::visit::{self, Visit};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A piece of feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Feedback {
    /// Id.
    pub id: u64,
    /// Customer.
    pub customer: u64,
    /// Visit it is about.
    pub visit: Option<u64>,
    /// Rating 1..=5.
    pub rating: Option<u8>,
    /// What was said.
    pub text: Option<String>,
    /// Review, complaint, praise.
    pub kind: FeedbackKind,
    /// Employee it is about (default: the visit's advisor).
    pub employee: Option<String>,
    /// Channel it came through (`call`, `site`, `desk`).
    pub source: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// Local date.
    pub date: NaiveDate,
    /// Bonus points granted for it.
    pub bonus: Decimal,
}

fn key(id: u64) -> Vec<u8> {
    KeyBuilder::new(tag::FEEDBACK).u64(id).build()
}

/// Key marking that a visit has feedback (value: the first feedback id).
pub fn visit_key(visit: u64) -> Vec<u8> {
    KeyBuilder::new(tag::VISIT_FEEDBACK).u64(visit).build()
}

/// Load one.
pub fn load<R: Reader>(reader: &R, id: u64) -> Result<Feedback> {
    must(reader.get(&key(id))?, "feedback", id)
}

/// The branch a piece of feedback counts in: its visit's, if it names one.
pub fn branch_of<R: Reader>(reader: &R, given: &Feedback) -> Result<Option<String>> {
    match given.visit {
        Some(visit) => Ok(visit::load(reader, visit)?.branch),
        None => Ok(None),
    }
}

/// `customer.merge`, before `from`'s feedback is filed under `to`: what the day cells
/// count of it moves to `to`'s part (at most `limit` records; the merge refuses a
/// customer with more).
pub fn move_counts(txn: &mut WriteTxn<'_>, (from, to): (u64, u64), limit: usize) -> Result<()> {
    let start = KeyBuilder::new(tag::CUSTOMER_FEEDBACK).u64(from).build();
    let end = crate::store::keys::prefix_end(&start);
    for (key, _) in txn.scan_raw(&start, &end, limit, false)? {
        let id = KeyReader::of(&key, tag::CUSTOMER_FEEDBACK, "customer's feedback")?.last_u64()?;
        let given = load(txn, id)?;
        let branch = branch_of(txn, &given)?;
        crate::aggregate::move_feedback(
            txn,
            (from, to),
            given.date,
            branch.as_deref(),
            given.employee.as_deref(),
            &given.tally(),
        )?;
    }
    Ok(())
}

/// Arguments of `feedback.add`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddArgs {
    /// Visit it is about.
    #[serde(default)]
    pub visit: Option<u64>,
    /// Or the host's order id of that visit.
    #[serde(default)]
    pub order_id: Option<String>,
    /// Or only the customer.
    #[serde(default)]
    pub customer: Option<CustomerRef>,
    /// Rating 1..=5.
    #[serde(default)]
    pub rating: Option<u8>,
    /// Text.
    #[serde(default)]
    pub text: Option<String>,
    /// Kind (default `review`).
    #[serde(default = "review")]
    pub kind: FeedbackKind,
    /// Employee it is about.
    #[serde(default)]
    pub employee: Option<String>,
    /// Channel.
    #[serde(default)]
    pub source: Option<String>,
}

fn review() -> FeedbackKind {
    FeedbackKind::Review
}

/// What `feedback.add` returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Added {
    /// The record.
    pub feedback: Feedback,
    /// Bonus granted now (zero when none is due or it was already granted for the visit).
    pub bonus: Decimal,
}

impl Feedback {
    /// What it counts for in `report.complaints`.
    pub fn tally(&self) -> crate::aggregate::FeedbackTally {
        crate::aggregate::FeedbackTally::one(self.kind == FeedbackKind::Complaint, self.rating)
    }
}

/// `feedback.add`.
pub fn add(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: AddArgs) -> Result<Added> {
    // Feedback is taken under a programme (its bonus rules), even when none is paid.
    ctx.program()?;
    if args.rating.is_some_and(|r| !(1..=5).contains(&r)) {
        return Err(Error::invalid("rating", "must be 1..=5"));
    }
    let text = match &args.text {
        Some(t) => {
            Some(normalize::optional_text("text", t, NOTES_CHARS_MAX)?).filter(|t| !t.is_empty())
        }
        None => None,
    };
    if args.rating.is_none() && text.is_none() {
        return Err(Error::invalid("rating", "give a rating or a text"));
    }
    let mut employee = match &args.employee {
        Some(e) => Some(normalize::text("employee", e, TEXT_CHARS_MAX)?),
        None => None,
    };
    let source = optional_identifier("source", args.source.as_deref())?;
    let visit = visit_of(txn, &args)?;
    let customer = match (&visit, &args.customer) {
        (Some(visit), _) => customer::load(txn, visit.customer)?,
        (None, Some(reference)) => customer::resolve(txn, ctx, reference)?,
        (None, None) => return Err(Error::internal("feedback without a customer")),
    };
    if employee.is_none() {
        employee = visit.as_ref().and_then(|v| v.advisor.clone());
    }
    let id = next_id(txn, "next_feedback")?;
    let bonus = match &visit {
        Some(visit) => bonus_for_visit(txn, ctx, id, args.kind, &customer, visit)?,
        None => Decimal::ZERO,
    };
    let record = Feedback {
        id,
        customer: customer.id,
        visit: visit.as_ref().map(|v| v.id),
        rating: args.rating,
        text,
        kind: args.kind,
        employee,
        source,
        at: ctx.at,
        date: ctx.today,
        bonus,
    };
    crate::aggregate::on_feedback(
        txn,
        customer.id,
        record.date,
        visit.as_ref().and_then(|v| v.branch.as_deref()),
        record.employee.as_deref(),
        &record.tally(),
    )?;
    txn.put(key(id), &record)?;
    txn.put(
        KeyBuilder::new(tag::CUSTOMER_FEEDBACK)
            .u64(customer.id)
            .u64(id)
            .build(),
        &(),
    )?;
    txn.put(
        KeyBuilder::new(tag::FEEDBACK_BY_DATE)
            .date(ctx.today)
            .u64(id)
            .build(),
        &(),
    )?;
    Ok(Added {
        feedback: record,
        bonus,
    })
}

fn optional_identifier(field: &str, value: Option<&str>) -> Result<Option<String>> {
    value.map(|v| normalize::identifier(field, v)).transpose()
}

/// The visit the feedback is about: by id or by order; none when given a customer.
fn visit_of(txn: &WriteTxn<'_>, args: &AddArgs) -> Result<Option<Visit>> {
    match (&args.visit, &args.order_id, &args.customer) {
        (Some(id), None, None) => Ok(Some(visit::load(txn, *id)?)),
        (None, Some(order), None) => {
            let order = normalize::identifier("order_id", order)?;
            let id =
                visit::by_order(txn, &order)?.ok_or_else(|| Error::not_found("order", &order))?;
            Ok(Some(visit::load(txn, id)?))
        }
        (None, None, Some(_)) => Ok(None),
        _ => Err(Error::invalid(
            "visit",
            "give exactly one of visit, order_id, customer",
        )),
    }
}

/// The programme's bonus for feedback on a visit: paid once per visit (the first
/// feedback on it), for the kinds the programme rewards, to an active customer.
fn bonus_for_visit(
    txn: &mut WriteTxn<'_>,
    ctx: &Ctx,
    id: u64,
    kind: FeedbackKind,
    customer: &Customer,
    visit: &Visit,
) -> Result<Decimal> {
    let program = ctx.program()?;
    let first = !txn.contains(&visit_key(visit.id))?;
    if first {
        txn.put(visit_key(visit.id), &id)?;
    }
    let rules = &program.feedback;
    let Some(points) = rules.bonus_points else {
        return Ok(Decimal::ZERO);
    };
    if !first || !rules.bonus_kinds.contains(&kind) || customer.status != CustomerStatus::Active {
        return Ok(Decimal::ZERO);
    }
    let expires_on = match rules.bonus_expiry_days {
        Some(days) => Some(ctx.today + Duration::days(i64::from(days))),
        None => program.expiry_date(ctx.today),
    };
    let mut book = Book::load(txn, customer.id)?;
    book.settle(ctx)?;
    book.credit(
        ctx,
        Credit::new(EntryKind::Bonus, points)
            .expiring(expires_on)
            .for_visit(visit.id)
            .because(format!("feedback {id} on visit {}", visit.id)),
    )?;
    book.save(txn)?;
    Ok(points)
}

/// Arguments of `report.complaints`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintsArgs {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Only feedback about visits recorded at this branch.
    #[serde(default)]
    pub branch: Option<String>,
}

/// Complaints of one employee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ByEmployee {
    /// Employee (`null`: not named).
    pub employee: Option<String>,
    /// Complaints.
    pub complaints: u64,
    /// All feedback about them in the period.
    pub feedback: u64,
    /// Average rating of the rated feedback.
    pub average_rating: Option<Decimal>,
}

/// Complaints of one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ByMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// Complaints.
    pub complaints: u64,
    /// All feedback.
    pub feedback: u64,
    /// Average rating.
    pub average_rating: Option<Decimal>,
}

/// `report.complaints` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Complaints {
    /// Period.
    pub from: NaiveDate,
    /// Period end.
    pub to: NaiveDate,
    /// Complaints in the period.
    pub complaints: u64,
    /// By employee, most complaints first.
    pub by_employee: Vec<ByEmployee>,
    /// By month, in order.
    pub by_month: Vec<ByMonth>,
    /// The latest complaints (up to 100), newest first.
    pub latest: Vec<ComplaintRow>,
}

/// A complaint in `report.complaints`, with who to call back about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplaintRow {
    /// The feedback itself.
    #[serde(flatten)]
    pub feedback: Feedback,
    /// The customer's name (`null` once their personal data is erased).
    pub customer_name: Option<String>,
    /// The customer's phone (`null` when none, or erased).
    pub phone: Option<String>,
    /// The plate of the car of the visit the complaint is about (`null` without a visit,
    /// a car or a plate, or when the customer's personal data is erased).
    pub plate: Option<String>,
}

/// Add the customer's name and phone and the visit's plate to a complaint; an erased
/// customer's personal fields stay out, the plate included.
fn complaint_row<R: Reader>(reader: &R, feedback: Feedback) -> Result<ComplaintRow> {
    let customer = customer::load(reader, feedback.customer)?;
    if customer.status == CustomerStatus::Erased {
        return Ok(ComplaintRow {
            feedback,
            customer_name: None,
            phone: None,
            plate: None,
        });
    }
    let vehicle = match feedback.visit {
        Some(id) => visit::load(reader, id)?.vehicle,
        None => None,
    };
    let plate = match vehicle {
        Some(id) => crate::vehicle::load(reader, id)?.plate,
        None => None,
    };
    Ok(ComplaintRow {
        feedback,
        customer_name: Some(customer.full_name),
        phone: customer.phone,
        plate,
    })
}

/// Longest period of one report, in days.
pub const PERIOD_DAYS_MAX: i64 = 3660;
const SCAN_CHUNK: usize = 1024;

#[derive(Default)]
struct Tally {
    complaints: u64,
    feedback: u64,
    rating_sum: u64,
    rated: u64,
}

impl Tally {
    fn add(&mut self, f: &Feedback) {
        self.feedback += 1;
        if f.kind == FeedbackKind::Complaint {
            self.complaints += 1;
        }
        if let Some(r) = f.rating {
            self.rating_sum += u64::from(r);
            self.rated += 1;
        }
    }
    fn average(&self) -> Option<Decimal> {
        (self.rated > 0)
            .then(|| (Decimal::from(self.rating_sum) / Decimal::from(self.rated)).round_dp(2))
    }
}

/// `report.complaints`: feedback in the period through the date index, chunk by chunk.
/// Whether feedback is about a visit recorded at `branch` (feedback about no visit
/// belongs to no branch).
fn about_branch<R: Reader>(reader: &R, feedback: &Feedback, branch: &str) -> Result<bool> {
    let Some(visit) = feedback.visit else {
        return Ok(false);
    };
    Ok(crate::visit::load(reader, visit)?.branch.as_deref() == Some(branch))
}

pub fn complaints<R: Reader>(reader: &R, args: &ComplaintsArgs) -> Result<Complaints> {
    if args.to < args.from || (args.to - args.from).num_days() > PERIOD_DAYS_MAX {
        return Err(Error::invalid(
            "to",
            format!("the period must run forward and last at most {PERIOD_DAYS_MAX} days"),
        ));
    }
    let branch = crate::visit::branch_filter(args.branch.as_deref())?;
    if crate::aggregate::ready(reader)? {
        return from_cells(reader, args, branch);
    }
    let mut tally = ComplaintTally::default();
    let mut start = KeyBuilder::new(tag::FEEDBACK_BY_DATE)
        .date(args.from)
        .build();
    let end = KeyBuilder::new(tag::FEEDBACK_BY_DATE)
        .date(args.to + Duration::days(1))
        .build();
    loop {
        let rows = reader.scan_raw(&start, &end, SCAN_CHUNK, false)?;
        let Some((last, _)) = rows.last() else { break };
        let mut next = last.clone();
        next.push(0);
        for (key, _) in &rows {
            let mut fields = KeyReader::of(key, tag::FEEDBACK_BY_DATE, "feedback date index")?;
            fields.date()?;
            let id = fields.u64()?;
            let f = load(reader, id)?;
            if let Some(branch) = branch
                && !about_branch(reader, &f, branch)?
            {
                continue;
            }
            tally.add(f);
        }
        start = next;
    }
    tally.report(reader, args)
}

/// `report.complaints` from the day cells: the tallies of the period's days, and the
/// latest complaints read back from the period's end.
fn from_cells<R: Reader>(
    reader: &R,
    args: &ComplaintsArgs,
    branch: Option<&str>,
) -> Result<Complaints> {
    let scope = crate::aggregate::Scope::of(branch);
    let mut tally = ComplaintTally::default();
    for (date, cell) in crate::aggregate::cells(reader, &scope, (args.from, args.to))? {
        for (employee, counted) in &cell.feedback {
            let counted = Tally::from(counted);
            tally
                .by_employee
                .entry(employee.clone())
                .or_default()
                .merge(&counted);
            tally
                .by_month
                .entry(format!("{:04}-{:02}", date.year(), date.month()))
                .or_default()
                .merge(&counted);
            tally.complaints += counted.complaints;
        }
    }
    tally.latest = latest_complaints(reader, args, branch)?;
    tally.report(reader, args)
}

/// The period's latest complaints (of the branch), oldest first, reading the date index
/// backwards from the period's end until enough are found.
fn latest_complaints<R: Reader>(
    reader: &R,
    args: &ComplaintsArgs,
    branch: Option<&str>,
) -> Result<Vec<Feedback>> {
    let start = KeyBuilder::new(tag::FEEDBACK_BY_DATE)
        .date(args.from)
        .build();
    let mut end = KeyBuilder::new(tag::FEEDBACK_BY_DATE)
        .date(args.to + Duration::days(1))
        .build();
    let mut latest = Vec::new();
    while latest.len() < LATEST_COMPLAINTS {
        let rows = reader.scan_raw(&start, &end, SCAN_CHUNK, true)?;
        let Some((last, _)) = rows.last() else { break };
        end = last.clone();
        for (key, _) in &rows {
            let mut fields = KeyReader::of(key, tag::FEEDBACK_BY_DATE, "feedback date index")?;
            fields.date()?;
            let f = load(reader, fields.u64()?)?;
            if f.kind != FeedbackKind::Complaint {
                continue;
            }
            if let Some(branch) = branch
                && !about_branch(reader, &f, branch)?
            {
                continue;
            }
            latest.push(f);
            if latest.len() == LATEST_COMPLAINTS {
                break;
            }
        }
    }
    latest.reverse();
    Ok(latest)
}

impl From<&crate::aggregate::FeedbackTally> for Tally {
    fn from(counted: &crate::aggregate::FeedbackTally) -> Tally {
        Tally {
            complaints: counted.complaints,
            feedback: counted.feedback,
            rating_sum: counted.rating_sum,
            rated: counted.rated,
        }
    }
}

impl Tally {
    fn merge(&mut self, other: &Tally) {
        self.complaints += other.complaints;
        self.feedback += other.feedback;
        self.rating_sum += other.rating_sum;
        self.rated += other.rated;
    }
}

/// Feedback of a period counted by employee and by month, with the latest complaints.
#[derive(Default)]
struct ComplaintTally {
    by_employee: BTreeMap<Option<String>, Tally>,
    by_month: BTreeMap<String, Tally>,
    /// The latest complaints, oldest first, at most [`LATEST_COMPLAINTS`].
    latest: Vec<Feedback>,
    complaints: u64,
}

/// How many of the latest complaints the report lists.
const LATEST_COMPLAINTS: usize = 100;

impl ComplaintTally {
    fn add(&mut self, f: Feedback) {
        self.by_employee
            .entry(f.employee.clone())
            .or_default()
            .add(&f);
        self.by_month
            .entry(format!("{:04}-{:02}", f.date.year(), f.date.month()))
            .or_default()
            .add(&f);
        if f.kind == FeedbackKind::Complaint {
            self.complaints += 1;
            self.latest.push(f);
            if self.latest.len() > LATEST_COMPLAINTS {
                self.latest.remove(0);
            }
        }
    }

    fn report<R: Reader>(self, reader: &R, args: &ComplaintsArgs) -> Result<Complaints> {
        // Only the complaints kept are looked up, not every one scanned; newest first.
        let latest = self
            .latest
            .into_iter()
            .rev()
            .map(|f| complaint_row(reader, f))
            .collect::<Result<Vec<_>>>()?;
        let mut employees: Vec<ByEmployee> = self
            .by_employee
            .into_iter()
            .map(|(employee, t)| ByEmployee {
                employee,
                complaints: t.complaints,
                feedback: t.feedback,
                average_rating: t.average(),
            })
            .collect();
        employees.sort_by(|a, b| {
            b.complaints
                .cmp(&a.complaints)
                .then(a.employee.cmp(&b.employee))
        });
        Ok(Complaints {
            from: args.from,
            to: args.to,
            complaints: self.complaints,
            by_employee: employees,
            by_month: self
                .by_month
                .into_iter()
                .map(|(month, t)| ByMonth {
                    month,
                    complaints: t.complaints,
                    feedback: t.feedback,
                    average_rating: t.average(),
                })
                .collect(),
            latest,
        })
    }
}
