//! Referrals under `customer.merge`: the merged customer's code leads to the kept one,
//! the customers they brought are the kept customer's referees, who brought them is
//! kept when the kept customer has no referrer of their own, and no one ends up
//! referring themselves. Referral grants that name the merged customer (on their own
//! visits and on their referees' visits) are rewritten to the kept customer and its
//! lot ids, so a later refund reverses them from the right account.

use super::*;
use crate::visit;

/// Most visits whose referral grants one merge rewrites.
const GRANT_VISITS_MAX: usize = 200_000;

/// What the merge did to referrals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReferralsMoved {
    /// Customers the merged customer brought, now the kept customer's referees.
    pub referees: usize,
    /// Links dropped because they would make the kept customer refer themselves.
    pub self_referrals_dropped: usize,
    /// Whether the kept customer took the merged customer's referrer.
    pub referrer_taken: bool,
    /// Visits whose referral grants were rewritten.
    pub grant_visits: usize,
}

/// Move `merged`'s referral facts to `keep`. `lot_offset` maps the merged account's lot
/// ids to the kept account's (see `ledger::merge_accounts`).
pub fn merge_referrals(
    txn: &mut WriteTxn<'_>,
    keep: u64,
    merged: u64,
    lot_offset: u64,
) -> Result<ReferralsMoved> {
    let mut moved = ReferralsMoved::default();
    let mut kept = load(txn, keep)?;
    let gone = load(txn, merged)?;
    // The customers the merged customer brought.
    let brought = referees(txn, merged, GRANT_VISITS_MAX)?;
    for referee in &brought {
        txn.delete(link_key(merged, *referee));
        if *referee == keep {
            kept.referrer = None;
            moved.self_referrals_dropped += 1;
            continue;
        }
        txn.put(link_key(keep, *referee), &())?;
        let mut record = load(txn, *referee)?;
        record.referrer = Some(keep);
        save(txn, &record)?;
        moved.referees += 1;
    }
    // Who brought the merged customer.
    if let Some(referrer) = gone.referrer {
        txn.delete(link_key(referrer, merged));
        if referrer == keep {
            moved.self_referrals_dropped += 1;
        } else if kept.referrer.is_none() {
            txn.put(link_key(referrer, keep), &())?;
            take_referee_side(&mut kept, &gone);
            moved.referrer_taken = true;
        }
    }
    // The merged customer's code still works, for the kept customer.
    if let Some(code) = &gone.code {
        txn.put(code_key(code), &keep)?;
        if kept.code.is_none() {
            kept.code = Some(code.clone());
        }
    }
    if kept != load(txn, keep)? {
        save(txn, &kept)?;
    }
    remove(txn, merged)?;
    moved.grant_visits = rewrite_grants(txn, keep, merged, lot_offset, &brought)?;
    Ok(moved)
}

fn take_referee_side(kept: &mut Referral, gone: &Referral) {
    kept.referrer = gone.referrer;
    kept.linked_at = gone.linked_at;
    kept.linked_on = gone.linked_on;
    kept.signup = gone.signup;
    kept.signup_visit = gone.signup_visit;
    kept.signup_note = gone.signup_note.clone();
    kept.rewarded_referrer = gone.rewarded_referrer;
    kept.rewarded_referee = gone.rewarded_referee;
    kept.cashback = gone.cashback.clone();
    kept.not_taken_back = gone.not_taken_back;
}

/// Grants on the visits of the kept customer (now holding the merged one's visits), of
/// the merged customer's referees and of their referees (cashback level 2).
fn rewrite_grants(
    txn: &mut WriteTxn<'_>,
    keep: u64,
    merged: u64,
    lot_offset: u64,
    brought: &[u64],
) -> Result<usize> {
    let mut payers: Vec<u64> = vec![keep];
    payers.extend(brought.iter().filter(|r| **r != keep));
    for referee in brought {
        payers.extend(referees(txn, *referee, GRANT_VISITS_MAX)?);
    }
    let mut rewritten = 0;
    let mut seen = 0usize;
    for payer in payers {
        let visits = visit::summaries(
            txn,
            payer,
            NaiveDate::MIN,
            NaiveDate::MAX - chrono::Duration::days(1),
            GRANT_VISITS_MAX,
        )?;
        seen += visits.len();
        if seen > GRANT_VISITS_MAX {
            return Err(Error::too_large(
                "customer.merge: visits with referral grants",
                GRANT_VISITS_MAX,
            ));
        }
        for (_, summary) in visits {
            let Some(mut grants) = visit_grants(txn, summary.visit)? else {
                continue;
            };
            let before = grants.clone();
            if grants.referee == merged {
                grants.referee = keep;
            }
            for grant in grants.grants.iter_mut().filter(|g| g.customer == merged) {
                grant.customer = keep;
                grant.lot += lot_offset;
            }
            if grants != before {
                txn.put(grants_key(summary.visit), &grants)?;
                rewritten += 1;
            }
        }
    }
    Ok(rewritten)
}
