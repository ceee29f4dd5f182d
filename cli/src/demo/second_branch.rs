//! On a PostgreSQL store the demo gains a second branch: another engine, opened on the
//! same store with the Khimki site's code (in a shop it would be another computer, or
//! another 1C worker process), serves its own customers the same day. Its visits record
//! the branch without naming it in each request; each site's figures for the day come
//! from `report.activity` with a `branch` filter; the customers' points are the group's.

use super::{ADVISORS, BRANCHES, Shop, moscow, ok};
use crate::Failure;
use crate::locale::{Locale, Msg};
use chrono::NaiveDate;
use pitstop_core::{Engine, EngineOptions};
use serde_json::{Value, json};
use std::path::Path;

/// Customers the second branch serves on the demo's day.
const CHECKOUTS: usize = 12;

/// What the second branch did, and both branches' figures for the day.
pub(super) struct BranchDay {
    branch: &'static str,
    checkouts: usize,
    /// `report.activity` totals of the day, per branch.
    per_branch: Vec<(&'static str, Value)>,
}

impl BranchDay {
    pub(super) fn to_json(&self) -> Value {
        json!({
            "branch": self.branch,
            "checkouts": self.checkouts,
            "today_by_branch": self.per_branch.iter()
                .map(|(branch, total)| (branch.to_string(), total.clone()))
                .collect::<serde_json::Map<String, Value>>(),
        })
    }

    pub(super) fn text(&self, locale: &Locale) -> String {
        let count = self.checkouts.to_string();
        let mut out = format!(
            "\n{}\n",
            locale.fill(
                Msg::SecondBranch,
                &[("branch", self.branch), ("count", &count)]
            )
        );
        for (branch, total) in &self.per_branch {
            let visits = locale.num(&total["visits"]);
            let revenue = locale.money(&total["revenue"]);
            let points = locale.num(&total["points_redeemed"]);
            out.push_str(&locale.fill(
                Msg::BranchToday,
                &[
                    ("branch", branch),
                    ("visits", &visits),
                    ("revenue", &revenue),
                    ("points", &points),
                ],
            ));
            out.push('\n');
        }
        out
    }
}

/// The second branch's day, when `store` is shared (PostgreSQL); `None` on sled, which
/// one process serves.
pub(super) fn run(
    store: &Path,
    shop: &mut Shop,
    today: NaiveDate,
) -> Result<Option<BranchDay>, Failure> {
    if !Engine::is_shared_store(store) {
        return Ok(None);
    }
    let branch = BRANCHES[1];
    let north = Engine::open(
        store,
        EngineOptions {
            branch: Some(branch.to_string()),
            ..EngineOptions::default()
        },
    )?;
    // Customers spread over the whole base (a few may have been at the main site today).
    let every = (shop.clients.len() / CHECKOUTS).max(1);
    let mut checkouts = 0;
    for (i, client) in shop.clients.iter().enumerate() {
        if checkouts == CHECKOUTS || i % every != 0 {
            continue;
        }
        let mut lines = Vec::new();
        super::data::oil_change(&mut shop.shop_rng, &mut lines);
        let minute = 30 * checkouts as u32;
        let args = json!({
            "customer": { "id": client.id }, "vehicle": { "id": client.car.id },
            "lines": lines,
            "order_id": format!("ХИМ-{}-{:04}", today.format("%Y%m%d"), checkouts + 1),
            "advisor": *shop.shop_rng.pick(ADVISORS),
            "at": moscow(today, 10 + minute / 60, minute % 60),
        });
        ok(&north, "checkout.commit", args)?;
        checkouts += 1;
    }
    let mut per_branch = Vec::new();
    for site in BRANCHES {
        let day = ok(
            &north,
            "report.activity",
            json!({ "from": today, "to": today, "branch": site }),
        )?;
        per_branch.push((*site, day["total"].clone()));
    }
    north.close()?;
    Ok(Some(BranchDay {
        branch,
        checkouts,
        per_branch,
    }))
}
