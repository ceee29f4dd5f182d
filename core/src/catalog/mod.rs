//! The host's service names confirmed as one service (`catalog.alias`), and the one
//! place that says which service a line's name belongs to ([`Aliases`]). Reminders and
//! `report.services` route every line name through it.
//!
//! A group is a service's name and its aliases. Every name of a group (its own name
//! too) has an index entry (`#n`, folded name → folded service name) so a line's name
//! resolves with one read; the group itself is kept under `#g`. A name belongs to at
//! most one group, and an alias has no aliases of its own (no chains): confirming under
//! an alias, or making a service with aliases the alias of another, is refused.
//! `catalog.duplicates` ([`duplicates`]) proposes the groups.

mod duplicates;

pub use duplicates::{DuplicateGroup, DuplicateName, Duplicates, DuplicatesArgs, duplicates};

use crate::context::Ctx;
use crate::error::{Error, ErrorCode, Result};
use crate::normalize::{self, TEXT_CHARS_MAX};
use crate::paging::PageSize;
use crate::service_name;
use crate::store::keys::{KeyBuilder, prefix_end, tag};
use crate::store::{Reader, WriteTxn};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::rc::Rc;

/// Most aliases one request confirms.
pub const ALIASES_PER_REQUEST_MAX: usize = 50;
/// Most names (its own and its aliases) of one service.
pub const GROUP_NAMES_MAX: usize = 100;
/// Groups of one `catalog.aliases` page: 100 unless asked, at most 1000.
const PAGE: PageSize = PageSize::new(100, 1000);

const INDEX: u8 = b'n';
const GROUP: u8 = b'g';

/// A service and the names confirmed as it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AliasGroup {
    /// The service's name (what reports show).
    pub name: String,
    /// Other names the host writes for it, in the order confirmed.
    pub aliases: Vec<String>,
    /// When the group last changed.
    pub changed_at: DateTime<Utc>,
}

impl AliasGroup {
    /// Every name of the service: its own first, then the aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

fn index_key(folded: &str) -> Vec<u8> {
    KeyBuilder::new(tag::CATALOG)
        .byte(INDEX)
        .str(folded)
        .build()
}

fn group_key(folded: &str) -> Vec<u8> {
    KeyBuilder::new(tag::CATALOG)
        .byte(GROUP)
        .str(folded)
        .build()
}

/// The group a name belongs to, if it was confirmed into one.
pub fn group_of<R: Reader>(reader: &R, name: &str) -> Result<Option<AliasGroup>> {
    let Some(service) = reader.get::<String>(&index_key(&service_name::fold(name)))? else {
        return Ok(None);
    };
    match reader.get::<AliasGroup>(&group_key(&service))? {
        Some(group) => Ok(Some(group)),
        None => Err(Error::corrupted(format!(
            "the service name {name:?} points at the missing service group {service:?}"
        ))),
    }
}

/// Which service a line's name belongs to, read once per distinct name: the one
/// function through which reminders and reports see a line's name.
#[derive(Default)]
pub struct Aliases {
    known: HashMap<String, Option<Rc<AliasGroup>>>,
}

impl Aliases {
    /// The confirmed group of a name, if any.
    pub fn group<R: Reader>(&mut self, reader: &R, name: &str) -> Result<Option<Rc<AliasGroup>>> {
        if let Some(known) = self.known.get(name) {
            return Ok(known.clone());
        }
        let group = group_of(reader, name)?.map(Rc::new);
        self.known.insert(name.to_string(), group.clone());
        Ok(group)
    }

    /// Every name that means the same service as `name` (itself alone when it is in no
    /// group): a reminder rule's pattern that matches any of them matches the line.
    pub fn names<R: Reader>(&mut self, reader: &R, name: &str) -> Result<Vec<String>> {
        Ok(match self.group(reader, name)? {
            Some(group) => group.names().map(str::to_string).collect(),
            None => vec![name.to_string()],
        })
    }
}

/// Arguments of `catalog.alias`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliasArgs {
    /// The service's name (kept as written; reports show it).
    pub name: String,
    /// Names that mean the same service.
    pub aliases: Vec<String>,
}

/// Arguments of `catalog.unalias`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnaliasArgs {
    /// An alias (detached from its service) or a service's name (its whole group undone).
    pub name: String,
}

/// Result of `catalog.unalias`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Unaliased {
    /// The names that no longer belong to a group.
    pub removed: Vec<String>,
    /// The group as it is now (absent when it was undone whole).
    pub group: Option<AliasGroup>,
}

/// Arguments of `catalog.aliases`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// Only the group of this name.
    #[serde(default)]
    pub name: Option<String>,
    /// The page after this service name (as the previous page's `next`).
    #[serde(default)]
    pub after: Option<String>,
    /// Groups per page (1..=1000, default 100).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Result of `catalog.aliases`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AliasList {
    /// Groups in the order of their folded names.
    pub groups: Vec<AliasGroup>,
    /// `after` of the next page, when there is one.
    pub next: Option<String>,
}

fn checked_names(args: &AliasArgs) -> Result<(String, Vec<String>)> {
    let name = normalize::text("name", &args.name, TEXT_CHARS_MAX)?;
    if args.aliases.is_empty() {
        return Err(Error::invalid("aliases", "must list at least one name"));
    }
    if args.aliases.len() > ALIASES_PER_REQUEST_MAX {
        return Err(Error::too_large("aliases", ALIASES_PER_REQUEST_MAX));
    }
    let mut seen = vec![service_name::fold(&name)];
    let mut aliases = Vec::with_capacity(args.aliases.len());
    for (i, alias) in args.aliases.iter().enumerate() {
        let field = format!("aliases[{i}]");
        let alias = normalize::text(&field, alias, TEXT_CHARS_MAX)?;
        let folded = service_name::fold(&alias);
        if seen.contains(&folded) {
            return Err(Error::invalid(
                &field,
                format!("'{alias}' is the service's name or another alias written again"),
            ));
        }
        seen.push(folded);
        aliases.push(alias);
    }
    Ok((name, aliases))
}

/// `catalog.alias`: confirm names as one service. Adds to the service's group (made on
/// first use); names already in it are left as they are.
pub fn alias(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: AliasArgs) -> Result<AliasGroup> {
    let (name, aliases) = checked_names(&args)?;
    let service = service_name::fold(&name);
    if let Some(owner) = txn.get::<String>(&index_key(&service))?
        && owner != service
    {
        let owner_group = load_group(txn, &owner)?;
        return Err(Error::invalid(
            "name",
            format!(
                "'{name}' is an alias of '{}'; an alias has no aliases of its own: \
                 confirm the names under '{}'",
                owner_group.name, owner_group.name
            ),
        ));
    }
    let mut group = txn
        .get::<AliasGroup>(&group_key(&service))?
        .unwrap_or_else(|| AliasGroup {
            name: name.clone(),
            aliases: Vec::new(),
            changed_at: ctx.at,
        });
    for (i, alias) in aliases.iter().enumerate() {
        let folded = service_name::fold(alias);
        if in_group(txn, &service, alias, i)? {
            continue;
        }
        if group.aliases.len() + 2 > GROUP_NAMES_MAX {
            return Err(Error::too_large("aliases", GROUP_NAMES_MAX - 1));
        }
        group.aliases.push(alias.clone());
        txn.put(index_key(&folded), &service)?;
    }
    group.changed_at = ctx.at;
    txn.put(index_key(&service), &service)?;
    txn.put(group_key(&service), &group)?;
    Ok(group)
}

/// Whether an alias is already a name of the service; refused when it belongs to
/// another service or has aliases of its own.
fn in_group(txn: &WriteTxn<'_>, service: &str, alias: &str, i: usize) -> Result<bool> {
    let folded = service_name::fold(alias);
    match txn.get::<String>(&index_key(&folded))? {
        None => Ok(false),
        Some(owner) if owner == service => Ok(true),
        Some(owner) if owner == folded => Err(Error::invalid(
            &format!("aliases[{i}]"),
            format!(
                "'{alias}' is a service with aliases of its own; undo them with \
                 catalog.unalias first (no chains of aliases)"
            ),
        )),
        Some(owner) => {
            let owner_group = load_group(txn, &owner)?;
            Err(Error::new(
                ErrorCode::AlreadyExists,
                format!(
                    "aliases[{i}]: '{alias}' is already an alias of '{}'; a name belongs \
                     to one service",
                    owner_group.name
                ),
            )
            .with_details(json!({
                "field": format!("aliases[{i}]"),
                "service": owner_group.name,
            })))
        }
    }
}

fn load_group<R: Reader>(reader: &R, service: &str) -> Result<AliasGroup> {
    reader.get(&group_key(service))?.ok_or_else(|| {
        Error::corrupted(format!(
            "a service name points at the missing service group {service:?}"
        ))
    })
}

/// `catalog.unalias`: detach an alias from its service, or undo a service's whole group
/// when given its name.
pub fn unalias(txn: &mut WriteTxn<'_>, ctx: &Ctx, args: UnaliasArgs) -> Result<Unaliased> {
    let name = normalize::text("name", &args.name, TEXT_CHARS_MAX)?;
    let folded = service_name::fold(&name);
    let Some(service) = txn.get::<String>(&index_key(&folded))? else {
        return Err(Error::not_found("service name", &name));
    };
    let mut group = load_group(txn, &service)?;
    if folded == service || group.aliases.len() == 1 {
        for each in group.names() {
            txn.delete(index_key(&service_name::fold(each)));
        }
        txn.delete(group_key(&service));
        return Ok(Unaliased {
            removed: group.names().map(str::to_string).collect(),
            group: None,
        });
    }
    let at = group
        .aliases
        .iter()
        .position(|a| service_name::fold(a) == folded)
        .ok_or_else(|| Error::corrupted(format!("the alias {name:?} is not in its group")))?;
    let removed = group.aliases.remove(at);
    group.changed_at = ctx.at;
    txn.delete(index_key(&folded));
    txn.put(group_key(&service), &group)?;
    Ok(Unaliased {
        removed: vec![removed],
        group: Some(group),
    })
}

/// `catalog.aliases`: the confirmed groups, a page at a time, or the group of one name.
pub fn list<R: Reader>(reader: &R, args: &ListArgs) -> Result<AliasList> {
    let limit = PAGE.of(args.limit)?;
    if let Some(name) = &args.name {
        let name = normalize::text("name", name, TEXT_CHARS_MAX)?;
        return Ok(AliasList {
            groups: group_of(reader, &name)?.into_iter().collect(),
            next: None,
        });
    }
    let prefix = KeyBuilder::new(tag::CATALOG).byte(GROUP).build();
    let start = match &args.after {
        Some(after) => {
            let mut key = group_key(&service_name::fold(after));
            key.push(0);
            key
        }
        None => prefix.clone(),
    };
    let mut groups: Vec<AliasGroup> = reader
        .scan_range::<AliasGroup>(&start, &prefix_end(&prefix), limit + 1, false)?
        .into_iter()
        .map(|(_, group)| group)
        .collect();
    let next = if groups.len() > limit {
        groups.truncate(limit);
        groups.last().map(|g| g.name.clone())
    } else {
        None
    };
    Ok(AliasList { groups, next })
}
