//! Which fields of the contract hold money or points, dates and instants.
//!
//! Taken from the core's argument and result types (every `Decimal`, `NaiveDate` and
//! `DateTime<Utc>` field, the programme document, plugin effects, error details). A
//! string is converted only under one of these names and only when it parses exactly,
//! so identifiers (card numbers, phones, order ids) always stay `str`.
//! `python/tests/test_conversion.py` runs every operation and fails when the core
//! returns a decimal-, date- or instant-looking string under a name missing here.

/// What a string field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Money, points, quantities, percentages: `decimal.Decimal`.
    Decimal,
    /// `YYYY-MM-DD`: `datetime.date`.
    Date,
    /// RFC 3339: aware `datetime.datetime` in UTC.
    Instant,
    /// Anything else stays `str`.
    Text,
}

/// The kind of the field `name` inside the object held by the field `parent`.
pub fn kind(parent: Option<&str>, name: &str) -> Kind {
    match name {
        // The programme's point value (`points.value`); elsewhere `value` is the
        // offending value of an error (a card number, an order id): text.
        "value" if parent == Some("points") => Kind::Decimal,
        "accrual" | "accrual_expired" | "accrual_taken" | "amount" | "amplification"
        | "applied" | "available" | "available_after" | "available_money"
        | "average_check" | "balance" | "balance_after" | "base" | "birthday_points"
        | "bonus" | "bonus_points_max" | "cap_percent" | "captured" | "credited"
        | "daily_km" | "discount" | "discount_percent" | "expired" | "goods" | "gross"
        | "held" | "held_change" | "host_discount" | "issued" | "labor" | "liability"
        // `lines` of a refund and `lots` of a ledger entry are (index, quantity/points) pairs.
        | "lines" | "lots" | "max" | "max_percent" | "min_bill" | "min_spend"
        | "min_total_spend" | "money" | "multiplier" | "net" | "outstanding" | "part"
        | "pending" | "pending_change" | "percent" | "points" | "points_accrued"
        | "points_expired" | "points_money" | "points_redeemed" | "points_released"
        | "points_returned" | "qty" | "rate_percent" | "redeem" | "redeemed"
        | "refunded_accrual" | "refunded_money" | "refunded_net" | "refunded_points"
        | "refunded_qty" | "remaining" | "requested" | "returning_share" | "revenue"
        | "shortfall_money" | "shortfall_points" | "spend" | "spend_missing"
        | "start_after_total_spend" | "total" | "total_spend" | "unit_price"
        | "welcome_bonus"
        // Growth: referral, campaigns, segments.
        | "budget" | "conversion" | "cost_per_customer" | "points_spent" | "spend_max" | "spend_min"
        | "cashback" | "levels" | "min_first_visit" | "not_taken_back" | "per_visit_max"
        | "referee_points" | "referee_revenue" | "referrer_points" | "reversed"
        | "rewarded_referee" | "rewarded_referrer" | "taken" | "total_max"
        | "points_granted"
        // A refund's share of the promotion bonus.
        | "bonus_back" | "bonus_expired" | "bonus_taken"
        // Bringing customers back: recommendations, orders, feedback, reminders.
        | "average_rating" | "bonus_points" | "factor" | "price"
        // The owner's reports (report.customers … report.services).
        | "adjusted" | "core_customer_share" | "core_revenue" | "cumulative_share"
        | "days_30" | "days_60" | "days_90" | "lapsed_revenue" | "liability_90"
        | "opening" | "point_value" | "revenue_per_customer" | "target_share"
        // What-if: program.simulate.
        | "change" | "discounts" | "liability_end" | "liability_start" => Kind::Decimal,
        // `to` is also a plugin message's audience (`"cashier"`): it does not parse, stays str.
        "accrual_expires_on" | "birthday" | "complete_from" | "created" | "date" | "due_on"
        | "expires_on" | "first_visit" | "from" | "last_visit" | "mileage_date"
        | "pending_until" | "registered_on" | "tier_since" | "to" | "today"
        | "linked_on" | "last_visit_before" | "last_visit_after"
        // Recommendations, tyre storage, special orders and reminder details.
        | "arrived_on" | "checked_in" | "checked_out" | "closed_on" | "expected"
        | "handed_over_on" | "last_done" | "ordered_on" | "recommended_on" | "visit_date" => {
            Kind::Date
        }
        "added_at" | "at" | "blocked_at" | "created_at" | "expires_at" | "installed_at"
        | "issued_at" | "registered_at" | "resolved_at" | "updated_at"
        | "linked_at" | "saved_at"
        // Service name groups (catalog.alias).
        | "changed_at" => Kind::Instant,
        _ => Kind::Text,
    }
}
