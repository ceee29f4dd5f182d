//! `report.completeness`: how much of the customer base lacks what the campaigns and the
//! source report need (phone, email, birthday, gender, acquisition source, consents),
//! overall and by the employee who registered the customers; the customers to fix,
//! names to correct ([`crate::person_name`]) and genders their patronymic tells.
//!
//! Every customer whose data were not erased counts. Birthday and gender are a
//! person's: they are counted over private customers only (`of` says over how many).
//! "Consents" is missing when no channel was ever asked (neither granted nor refused).
//! Customers registered without `registered_by`, or before it was kept, are the
//! "unknown" registrar (`registered_by: null`). Nothing is written: the shop applies a
//! proposal with `customer.update`.

use super::{CHUNK, percent, top_n};
use crate::context::Ctx;
use crate::customer::{self, Customer, CustomerKind, CustomerStatus, Gender};
use crate::error::{Error, Result};
use crate::normalize;
use crate::person_name::{self, NameProblem};
use crate::store::Reader;
use crate::store::keys::{self, KeyBuilder, tag};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::HashMap;

/// Most rows of each list.
pub const TOP_MAX: usize = 1000;
/// Most registrars listed.
pub const REGISTRARS_MAX: usize = 1000;

/// Arguments of `report.completeness`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletenessArgs {
    /// Rows of each list (1..=1000, default 100).
    #[serde(default)]
    pub top: Option<usize>,
    /// Only the customers this employee registered (compared without case).
    #[serde(default)]
    pub registered_by: Option<String>,
}

/// Customers missing one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Missing {
    /// Customers without it.
    pub missing: u64,
    /// Customers it applies to.
    pub of: u64,
    /// `missing` in percent of `of`, one decimal.
    pub percent: Decimal,
}

/// The missing fields of a set of customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Fields {
    /// Customers counted.
    pub customers: u64,
    /// No phone.
    pub phone: Missing,
    /// No email.
    pub email: Missing,
    /// No birthday (private customers).
    pub birthday: Missing,
    /// Gender unknown (private customers).
    pub gender: Missing,
    /// No acquisition source.
    pub source: Missing,
    /// No consent asked on any channel.
    pub consents: Missing,
}

/// The fields of the customers one employee registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RegistrarRow {
    /// The employee (`null`: not recorded).
    pub registered_by: Option<String>,
    /// What their customers miss.
    pub fields: Fields,
}

/// A customer to complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FixRow {
    /// Customer id.
    pub customer: u64,
    /// Name.
    pub full_name: String,
    /// Who registered them.
    pub registered_by: Option<String>,
    /// The fields missing (`phone`, `email`, `birthday`, `gender`, `source`, `consents`).
    pub missing: Vec<String>,
    /// Lifetime spend (the list puts the most valuable first among equals).
    pub total_spend: Decimal,
}

/// A name to correct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NameFixRow {
    /// Customer id.
    pub customer: u64,
    /// The name as kept.
    pub full_name: String,
    /// The name proposed.
    pub proposed: String,
    /// What the proposal corrects.
    pub problems: Vec<NameProblem>,
}

/// A gender the patronymic tells, for a customer whose gender is unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GenderRow {
    /// Customer id.
    pub customer: u64,
    /// Name.
    pub full_name: String,
    /// The gender proposed.
    pub gender: Gender,
    /// The word that tells it (the patronymic, or оглы / кызы).
    pub told_by: String,
}

/// `report.completeness` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletenessReport {
    /// The filter applied, if any.
    pub registered_by: Option<String>,
    /// The whole base (or the registrar's customers).
    pub total: Fields,
    /// By registrar, the most customers first (at most 1000).
    pub by_registrar: Vec<RegistrarRow>,
    /// Customers missing at least one field.
    pub incomplete: u64,
    /// The first `top` of them: most fields missing first, then the biggest spend.
    pub rows: Vec<FixRow>,
    /// Names to correct.
    pub name_fixes: u64,
    /// The first `top` of them, by customer id.
    pub name_rows: Vec<NameFixRow>,
    /// Genders proposed.
    pub gender_proposals: u64,
    /// The first `top` of them, by customer id.
    pub gender_rows: Vec<GenderRow>,
}

/// Counts of missing fields.
#[derive(Default, Clone)]
struct Tally {
    customers: u64,
    private: u64,
    missing: [u64; 6],
}

const FIELDS: [&str; 6] = ["phone", "email", "birthday", "gender", "source", "consents"];

impl Tally {
    fn add(&mut self, customer: &Customer, missing: &[bool; 6]) {
        self.customers += 1;
        if customer.kind == CustomerKind::Private {
            self.private += 1;
        }
        for (count, lacks) in self.missing.iter_mut().zip(missing) {
            *count += u64::from(*lacks);
        }
    }

    fn fields(&self) -> Fields {
        let of = |i: usize| {
            let whole = if matches!(i, 2 | 3) {
                self.private
            } else {
                self.customers
            };
            Missing {
                missing: self.missing[i],
                of: whole,
                percent: percent(self.missing[i], whole),
            }
        };
        Fields {
            customers: self.customers,
            phone: of(0),
            email: of(1),
            birthday: of(2),
            gender: of(3),
            source: of(4),
            consents: of(5),
        }
    }
}

/// What a customer lacks, in the order of [`FIELDS`].
fn lacks(customer: &Customer) -> [bool; 6] {
    let private = customer.kind == CustomerKind::Private;
    [
        customer.phone.is_none(),
        customer.email.is_none(),
        private && customer.birthday.is_none(),
        private && customer.gender == Gender::Unknown,
        customer.source.is_none(),
        customer.consents.is_empty(),
    ]
}

/// How a customer to fix ranks: fields missing, spend, then the smaller id.
type Rank = (usize, Decimal, Reverse<u64>);

/// What the scan keeps: the tallies and each list's best `top`.
struct Scan {
    top: usize,
    total: Tally,
    registrars: HashMap<Option<String>, Tally>,
    incomplete: Vec<(Rank, FixRow)>,
    incomplete_count: u64,
    names: Vec<NameFixRow>,
    name_count: u64,
    genders: Vec<GenderRow>,
    gender_count: u64,
}

impl Scan {
    fn add(&mut self, customer: &Customer, registered_by: Option<String>) {
        let missing = lacks(customer);
        self.total.add(customer, &missing);
        self.registrars
            .entry(registered_by.clone())
            .or_default()
            .add(customer, &missing);
        let fields: Vec<String> = FIELDS
            .iter()
            .zip(missing)
            .filter(|(_, lacks)| *lacks)
            .map(|(name, _)| (*name).to_string())
            .collect();
        if !fields.is_empty() {
            self.incomplete_count += 1;
            let key = (fields.len(), customer.total_spend, Reverse(customer.id));
            self.incomplete.push((
                key,
                FixRow {
                    customer: customer.id,
                    full_name: customer.full_name.clone(),
                    registered_by,
                    missing: fields,
                    total_spend: customer.total_spend,
                },
            ));
            if self.incomplete.len() >= self.top * 4 {
                self.incomplete = top_n(std::mem::take(&mut self.incomplete).into_iter(), self.top);
            }
        }
        if customer.kind != CustomerKind::Private {
            return;
        }
        if let Some((proposed, problems)) = person_name::correction(&customer.full_name) {
            self.name_count += 1;
            if self.names.len() < self.top {
                self.names.push(NameFixRow {
                    customer: customer.id,
                    full_name: customer.full_name.clone(),
                    proposed,
                    problems,
                });
            }
        }
        if customer.gender == Gender::Unknown
            && let Some((gender, from)) = person_name::gender(&customer.full_name)
        {
            self.gender_count += 1;
            if self.genders.len() < self.top {
                self.genders.push(GenderRow {
                    customer: customer.id,
                    full_name: customer.full_name.clone(),
                    gender: match gender {
                        person_name::Gender::Male => Gender::Male,
                        person_name::Gender::Female => Gender::Female,
                    },
                    told_by: from,
                });
            }
        }
    }
}

/// Every customer whose data were not erased (of one registrar, with a filter) into the
/// scan, a chunk at a time.
fn scan_customers<R: Reader>(reader: &R, filter: Option<&str>, scan: &mut Scan) -> Result<()> {
    let prefix = KeyBuilder::new(tag::CUSTOMER).build();
    let end = keys::prefix_end(&prefix);
    let mut start = prefix;
    loop {
        let chunk = reader.scan_range::<Customer>(&start, &end, CHUNK, false)?;
        let Some((last, _)) = chunk.last() else {
            return Ok(());
        };
        let mut next = last.clone();
        next.push(0);
        for (_, customer) in &chunk {
            if customer.status == CustomerStatus::Erased {
                continue;
            }
            let by = customer::registered_by(reader, customer.id)?;
            if let Some(wanted) = filter
                && by.as_deref().map(normalize::fold_name).as_deref() != Some(wanted)
            {
                continue;
            }
            scan.add(customer, by);
        }
        start = next;
    }
}

/// Missing data, by registrar, the customers to fix and the proposals.
pub fn completeness<R: Reader>(
    reader: &R,
    _ctx: &Ctx,
    args: &CompletenessArgs,
) -> Result<CompletenessReport> {
    let top = match args.top {
        None => 100,
        Some(n) if n == 0 || n > TOP_MAX => {
            return Err(Error::invalid("top", format!("must be 1..={TOP_MAX}")));
        }
        Some(n) => n,
    };
    let filter = args
        .registered_by
        .as_deref()
        .map(|by| {
            normalize::text("registered_by", by, customer::REGISTERED_BY_CHARS_MAX)
                .map(|by| normalize::fold_name(&by))
        })
        .transpose()?;
    let mut scan = Scan {
        top,
        total: Tally::default(),
        registrars: HashMap::new(),
        incomplete: Vec::new(),
        incomplete_count: 0,
        names: Vec::new(),
        name_count: 0,
        genders: Vec::new(),
        gender_count: 0,
    };
    scan_customers(reader, filter.as_deref(), &mut scan)?;
    let mut registrars: Vec<(Option<String>, Tally)> = scan.registrars.into_iter().collect();
    registrars.sort_by(|a, b| {
        b.1.customers
            .cmp(&a.1.customers)
            .then_with(|| a.0.cmp(&b.0))
    });
    registrars.truncate(REGISTRARS_MAX);
    Ok(CompletenessReport {
        registered_by: args.registered_by.as_deref().map(|s| s.trim().to_string()),
        total: scan.total.fields(),
        by_registrar: registrars
            .into_iter()
            .map(|(registered_by, tally)| RegistrarRow {
                registered_by,
                fields: tally.fields(),
            })
            .collect(),
        incomplete: scan.incomplete_count,
        rows: top_n(scan.incomplete.into_iter(), top)
            .into_iter()
            .map(|(_, row)| row)
            .collect(),
        name_fixes: scan.name_count,
        name_rows: scan.names,
        gender_proposals: scan.gender_count,
        gender_rows: scan.genders,
    })
}
