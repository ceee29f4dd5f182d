//! `catalog.duplicates`: the host's work and part names seen on visit lines in a period,
//! grouped where they mean the same service ([`crate::service_name`]): names with one
//! key, and keys one typing slip apart. Names already confirmed as one service count as
//! one: a group whose names all belong to one service is not proposed again.

use super::Aliases;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::paging::PageSize;
use crate::service_name;
use crate::store::Reader;
use crate::store::keys::{KeyReader, tag};
use crate::visit;
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

/// Longest period, in days (as the reports').
pub const PERIOD_DAYS_MAX: i64 = 3660;
/// Groups one answer lists: 100 unless asked, at most 1000.
const PAGE: PageSize = PageSize::new(100, 1000);
/// Most distinct names read; names first seen after that are not counted.
pub const NAMES_MAX: usize = 200_000;
const CHUNK: usize = 4096;

/// Arguments of `catalog.duplicates`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicatesArgs {
    /// First local date (default: `to` less 3660 days).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Last local date (default: today).
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// Most groups listed (1..=1000, default 100), the most used first.
    #[serde(default)]
    pub limit: Option<usize>,
}

/// One name of a proposed group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DuplicateName {
    /// As written on the visit lines.
    pub name: String,
    /// Visit lines with this name in the period.
    pub lines: u64,
    /// The service it is already confirmed as, if any.
    pub service: Option<String>,
}

/// Names that mean the same service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DuplicateGroup {
    /// The name proposed for the service: the confirmed service's name when one of the
    /// names has one, else the most used name (on a tie: without abbreviation dots, not
    /// in capitals only, the longest, then the first in order).
    pub proposed: String,
    /// Visit lines of all the names.
    pub lines: u64,
    /// The normalised key the names share (the most used name's).
    pub key: String,
    /// The names, the most used first.
    pub names: Vec<DuplicateName>,
}

/// `catalog.duplicates` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Duplicates {
    /// First date.
    pub from: NaiveDate,
    /// Last date.
    pub to: NaiveDate,
    /// Distinct names seen on the period's visit lines.
    pub names: u64,
    /// Groups found (before `limit`).
    pub groups: u64,
    /// Whether more than [`NAMES_MAX`] distinct names were seen (the rest not counted).
    pub truncated: bool,
    /// The groups, the most used first.
    pub rows: Vec<DuplicateGroup>,
}

fn period(ctx: &Ctx, args: &DuplicatesArgs) -> Result<(NaiveDate, NaiveDate)> {
    for (field, date) in [("from", args.from), ("to", args.to)] {
        if let Some(date) = date
            && !(1..=9999).contains(&date.year())
        {
            return Err(Error::invalid(
                field,
                format!("{date} is not a date of years 1..=9999"),
            ));
        }
    }
    let to = args.to.unwrap_or(ctx.today);
    let from = match args.from {
        Some(from) => from,
        None => to
            .checked_sub_signed(Duration::days(PERIOD_DAYS_MAX))
            .unwrap_or(NaiveDate::MIN),
    };
    if to < from {
        return Err(Error::invalid("to", format!("{to} is before {from}")));
    }
    if (to - from).num_days() > PERIOD_DAYS_MAX {
        return Err(Error::invalid(
            "to",
            format!("catalog.duplicates covers at most {PERIOD_DAYS_MAX} days"),
        ));
    }
    Ok((from, to))
}

/// Distinct line names of the period and their line counts.
fn count_names<R: Reader>(
    reader: &R,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<(HashMap<String, u64>, bool)> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut truncated = false;
    let mut after: Option<Vec<u8>> = None;
    loop {
        let chunk = visit::dated_visits(reader, None, (from, to), after.as_deref(), CHUNK)?;
        let Some((last, _, _)) = chunk.last() else {
            return Ok((counts, truncated));
        };
        after = Some(last.clone());
        for (key, _, _) in &chunk {
            let id = KeyReader::of(key, tag::VISIT_BY_DATE, "visit date index")?.last_u64()?;
            for line in visit::load(reader, id)?.lines {
                let name = line.name.trim();
                let full = counts.len() >= NAMES_MAX;
                match counts.get_mut(name) {
                    Some(n) => *n += 1,
                    None if !full => {
                        counts.insert(name.to_string(), 1);
                    }
                    None => truncated = true,
                }
            }
        }
    }
}

/// Union-find over the keys.
struct Sets(Vec<usize>);

impl Sets {
    fn root(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }
    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        if a != b {
            self.0[a.max(b)] = a.min(b);
        }
    }
}

/// Names grouped by key, keys one slip apart joined: each group's names.
fn group_names(counts: HashMap<String, u64>) -> Vec<Vec<(String, u64)>> {
    let mut by_key: BTreeMap<Vec<String>, Vec<(String, u64)>> = BTreeMap::new();
    for (name, lines) in counts {
        let tokens = service_name::tokens(&name);
        if !tokens.is_empty() {
            by_key.entry(tokens).or_default().push((name, lines));
        }
    }
    let keys: Vec<Vec<String>> = by_key.keys().cloned().collect();
    let mut sets = Sets((0..keys.len()).collect());
    let mut blocks: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, tokens) in keys.iter().enumerate() {
        for block in service_name::near_blocks(tokens) {
            blocks.entry(block).or_default().push(i);
        }
    }
    for members in blocks.values() {
        for (n, &a) in members.iter().enumerate() {
            for &b in &members[n + 1..] {
                if service_name::near(&keys[a], &keys[b]) {
                    sets.join(a, b);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<(String, u64)>> = BTreeMap::new();
    for (i, names) in by_key.into_values().enumerate() {
        let root = sets.root(i);
        groups.entry(root).or_default().extend(names);
    }
    groups.into_values().collect()
}

/// Whether a name is written in capitals only (`ЗАМЕНА МАСЛА ДВС`).
fn shouting(name: &str) -> bool {
    name.chars().any(char::is_alphabetic) && !name.chars().any(char::is_lowercase)
}

/// A group as proposed, or `None` when its names are already one service.
fn proposal<R: Reader>(
    reader: &R,
    aliases: &mut Aliases,
    mut names: Vec<(String, u64)>,
) -> Result<Option<DuplicateGroup>> {
    names.sort_by_key(|(name, lines)| {
        (
            Reverse(*lines),
            name.contains('.'),
            shouting(name),
            Reverse(name.chars().count()),
            name.clone(),
        )
    });
    let mut rows = Vec::with_capacity(names.len());
    let mut identities: Vec<String> = Vec::new();
    for (name, lines) in names {
        let service = aliases.group(reader, &name)?.map(|g| g.name.clone());
        let identity = match &service {
            Some(service) => format!("service:{}", service_name::fold(service)),
            None => format!("name:{}", service_name::fold(&name)),
        };
        if !identities.contains(&identity) {
            identities.push(identity);
        }
        rows.push(DuplicateName {
            name,
            lines,
            service,
        });
    }
    if identities.len() < 2 {
        return Ok(None);
    }
    let proposed = rows
        .iter()
        .find_map(|r| r.service.clone())
        .unwrap_or_else(|| rows[0].name.clone());
    Ok(Some(DuplicateGroup {
        proposed,
        lines: rows.iter().map(|r| r.lines).sum(),
        key: service_name::key(&rows[0].name),
        names: rows,
    }))
}

/// Names on the period's visit lines that mean the same service.
pub fn duplicates<R: Reader>(reader: &R, ctx: &Ctx, args: &DuplicatesArgs) -> Result<Duplicates> {
    let limit = PAGE.of(args.limit)?;
    let (from, to) = period(ctx, args)?;
    let (counts, truncated) = count_names(reader, (from, to))?;
    let names = counts.len() as u64;
    let mut aliases = Aliases::default();
    let mut rows = Vec::new();
    for group in group_names(counts) {
        if group.len() < 2 {
            continue;
        }
        if let Some(row) = proposal(reader, &mut aliases, group)? {
            rows.push(row);
        }
    }
    rows.sort_by(|a, b| b.lines.cmp(&a.lines).then_with(|| a.key.cmp(&b.key)));
    let groups = rows.len() as u64;
    rows.truncate(limit);
    Ok(Duplicates {
        from,
        to,
        names,
        groups,
        truncated,
        rows,
    })
}
