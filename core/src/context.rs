//! What every operation knows besides its arguments: when it happens, the programme,
//! and the local day in the programme's timezone. Also id counters and small helpers
//! shared by the domain modules.

use crate::error::{Error, Result};
use crate::program::Program;
use crate::store::keys::KeyReader;
use crate::store::{Reader, WriteTxn, keys};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer};
use std::sync::Arc;

/// The moment and rules an operation runs under.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The operation's instant (`at` argument or the clock).
    pub at: DateTime<Utc>,
    /// The local date of `at` in the programme's timezone.
    pub today: NaiveDate,
    /// The current programme, if one was set.
    pub program: Option<Arc<Program>>,
    /// The branch the engine was opened for (a dealer group's site): visits recorded
    /// without a `branch` of their own get it.
    pub branch: Option<Arc<str>>,
    /// Who did it at the host (the request's `operator`), for the audit log.
    pub operator: Option<Arc<str>>,
}

impl Ctx {
    /// Build a context; `today` follows the programme's timezone (UTC without one).
    pub fn new(at: DateTime<Utc>, program: Option<Arc<Program>>) -> Ctx {
        let today = match &program {
            Some(program) => program.local_date(at),
            None => at.date_naive(),
        };
        Ctx {
            at,
            today,
            program,
            branch: None,
            operator: None,
        }
    }

    /// The same context for an engine opened for `branch`.
    pub fn with_branch(mut self, branch: Option<Arc<str>>) -> Ctx {
        self.branch = branch;
        self
    }

    /// The same context for an operation done by `operator`.
    pub fn with_operator(mut self, operator: Option<Arc<str>>) -> Ctx {
        self.operator = operator;
        self
    }

    /// The programme, or `no_program`.
    pub fn program(&self) -> Result<&Program> {
        self.program.as_deref().ok_or_else(|| {
            Error::new(
                crate::ErrorCode::NoProgram,
                "no programme is set; call program.set first",
            )
        })
    }

    /// ISO country for phones typed without a code.
    pub fn default_country(&self) -> &str {
        self.program
            .as_deref()
            .map(|p| p.default_country.as_str())
            .unwrap_or("RU")
    }
}

/// Take the next value of a named counter (ids start at 1).
pub fn next_id(txn: &mut WriteTxn<'_>, counter: &str) -> Result<u64> {
    txn.next_id(counter)
}

/// Deserialize a field that distinguishes "absent" (outer `None`) from `null`
/// (inner `None`), for partial updates: `#[serde(default, deserialize_with = "patch")]`.
pub fn patch<'de, D, T>(deserializer: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Days from `from` to the next occurrence of the birthday's month and day
/// (0 = today). Feb 29 birthdays fall on Feb 28 in common years.
pub fn days_until_birthday(birthday: NaiveDate, from: NaiveDate) -> i64 {
    use chrono::Datelike;
    let in_year = |year: i32| {
        NaiveDate::from_ymd_opt(year, birthday.month(), birthday.day())
            .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
            .unwrap_or(from)
    };
    let this_year = in_year(from.year());
    let next = if this_year >= from {
        this_year
    } else {
        in_year(from.year() + 1)
    };
    (next - from).num_days()
}

/// Days since the last occurrence of the birthday (0 = today).
pub fn days_since_birthday(birthday: NaiveDate, from: NaiveDate) -> i64 {
    use chrono::Datelike;
    let in_year = |year: i32| {
        NaiveDate::from_ymd_opt(year, birthday.month(), birthday.day())
            .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
            .unwrap_or(from)
    };
    let this_year = in_year(from.year());
    let last = if this_year <= from {
        this_year
    } else {
        in_year(from.year() - 1)
    };
    (from - last).num_days()
}

/// Read a record that must exist, or report `not_found`.
pub fn must<T>(value: Option<T>, what: &str, key: impl std::fmt::Display) -> Result<T> {
    value.ok_or_else(|| Error::not_found(what, key))
}

/// Ids kept as the last 8 bytes of index keys under `prefix` (newest first when
/// `reverse`), at most `limit`.
pub fn ids_under<R: Reader>(
    reader: &R,
    prefix: &[u8],
    limit: usize,
    reverse: bool,
) -> Result<Vec<u64>> {
    let end = keys::prefix_end(prefix);
    let rows = reader.scan_raw(prefix, &end, limit, reverse)?;
    let mut out = Vec::with_capacity(rows.len());
    for (key, _) in rows {
        let table = prefix.first().copied().unwrap_or_default();
        let id = KeyReader::of(&key, table, "index")?.last_u64()?;
        out.push(id);
    }
    Ok(out)
}

/// Check a money amount from a request: 0..=100 000 000 with at most 2 decimals.
pub fn check_money(field: &str, value: rust_decimal::Decimal) -> Result<rust_decimal::Decimal> {
    let max = rust_decimal::Decimal::from(100_000_000u32);
    if value < rust_decimal::Decimal::ZERO || value > max || value.normalize().scale() > 2 {
        return Err(Error::invalid(
            field,
            format!("{value} must be 0..={max} with at most 2 decimals"),
        ));
    }
    Ok(crate::normalize::money(value))
}
