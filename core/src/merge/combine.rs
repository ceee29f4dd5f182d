//! One customer record out of two: the kept customer's fields stay, blanks are filled
//! from the merged one, counters add up, and consents and restrictions take the most
//! restrictive of the two.

use crate::customer::{Channel, Consent, Customer, CustomerStatus, Gender};
use crate::normalize::{NOTES_CHARS_MAX, TAGS_MAX};
use chrono::{DateTime, Utc};

/// The kept customer as the merge leaves them, and the fields taken from the merged one.
pub fn customers(keep: &Customer, gone: &Customer, at: DateTime<Utc>) -> (Customer, Vec<String>) {
    let mut new = keep.clone();
    let mut adopted = Vec::new();
    let mut fill = |name: &str, slot: &mut Option<String>, value: &Option<String>| {
        if slot.is_none() && value.is_some() {
            *slot = value.clone();
            adopted.push(name.to_string());
        }
    };
    fill("phone", &mut new.phone, &gone.phone);
    fill("email", &mut new.email, &gone.email);
    fill("external_id", &mut new.external_id, &gone.external_id);
    fill("source", &mut new.source, &gone.source);
    fill("agreement", &mut new.agreement, &gone.agreement);
    fill("card", &mut new.card, &gone.card);
    if new.birthday.is_none() && gone.birthday.is_some() {
        new.birthday = gone.birthday;
        adopted.push("birthday".into());
    }
    if new.gender == Gender::Unknown && gone.gender != Gender::Unknown {
        new.gender = gone.gender;
        adopted.push("gender".into());
    }
    if new.company.is_none() && gone.company.is_some_and(|c| c != keep.id) {
        new.company = gone.company;
        adopted.push("company".into());
    }
    if new.company == Some(gone.id) {
        new.company = None;
    }
    new.notes = joined_notes(&keep.notes, &gone.notes);
    let mut tags = keep.tags.clone();
    for tag in &gone.tags {
        if !tags.contains(tag) && tags.len() < TAGS_MAX {
            tags.push(tag.clone());
        }
    }
    tags.sort();
    new.tags = tags;
    if gone.blacklisted && !keep.blacklisted {
        new.blacklisted = true;
        new.blacklist_reason = gone.blacklist_reason.clone();
    }
    if gone.status == CustomerStatus::Blocked {
        new.status = CustomerStatus::Blocked;
    }
    new.consents = restrictive_consents(&keep.consents, &gone.consents, at);
    new.vip = keep.vip || gone.vip;
    new.total_spend = keep.total_spend + gone.total_spend;
    new.visits = keep.visits + gone.visits;
    new.first_visit = earliest(keep.first_visit, gone.first_visit);
    new.last_visit = keep.last_visit.max(gone.last_visit);
    new.registered_at = keep.registered_at.min(gone.registered_at);
    (new, adopted)
}

fn earliest<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn joined_notes(keep: &Option<String>, gone: &Option<String>) -> Option<String> {
    match (keep, gone) {
        (Some(a), Some(b)) if a != b => {
            let joined = format!("{a}\n{b}");
            Some(joined.chars().take(NOTES_CHARS_MAX).collect())
        }
        (None, Some(b)) => Some(b.clone()),
        (a, _) => a.clone(),
    }
}

/// A channel is granted only when both customers granted it: a withdrawal or a missing
/// consent on either side wins.
pub fn restrictive_consents(keep: &[Consent], gone: &[Consent], at: DateTime<Utc>) -> Vec<Consent> {
    let mut channels: Vec<Channel> = keep.iter().chain(gone).map(|c| c.channel).collect();
    channels.sort();
    channels.dedup();
    channels
        .into_iter()
        .map(|channel| {
            let a = keep.iter().find(|c| c.channel == channel);
            let b = gone.iter().find(|c| c.channel == channel);
            match (a, b) {
                (Some(a), Some(b)) if a.granted && b.granted => Consent {
                    channel,
                    granted: true,
                    at: a.at.max(b.at),
                },
                (Some(a), _) if !a.granted => a.clone(),
                (_, Some(b)) if !b.granted => b.clone(),
                _ => Consent {
                    channel,
                    granted: false,
                    at,
                },
            }
        })
        .collect()
}
