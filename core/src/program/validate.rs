//! Checking a programme document: every problem is listed, each naming the field in
//! the document's own terms, so a shop fixes them all in one pass.

use super::*;
use crate::error::{Error, ErrorCode, Result};
use rust_decimal::Decimal;
use serde_json::json;

impl Program {
    /// Check every rule; returns `invalid_program` with all problems.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, problem: String| {
            if !ok {
                problems.push(problem)
            }
        };
        self.validate_identity(&mut check);
        self.validate_points(&mut check);
        self.validate_bonuses(&mut check);
        self.validate_tiers(&mut check);
        self.validate_agreements(&mut check);
        self.validate_discounts(&mut check);
        self.validate_growth(&mut check);
        self.feedback.validate(self.points.scale, &mut problems);
        self.reminders.validate(&mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::InvalidProgram,
                format!(
                    "the programme has {} problem(s): {}",
                    problems.len(),
                    problems.join("; ")
                ),
            )
            .with_details(json!({ "problems": problems })))
        }
    }

    /// Name, currency, timezone, country and language.
    fn validate_identity(&self, check: &mut impl FnMut(bool, String)) {
        check(
            self.name.chars().count() <= 200,
            "name is longer than 200 characters".into(),
        );
        check(
            self.currency.len() == 3 && self.currency.chars().all(|c| c.is_ascii_uppercase()),
            format!("currency '{}' is not an ISO 4217 code", self.currency),
        );
        check(
            self.timezone.parse::<Tz>().is_ok(),
            format!("timezone '{}' is not an IANA timezone", self.timezone),
        );
        check(
            crate::normalize::calling_code(&self.default_country).is_some(),
            format!(
                "default_country '{}' is not a supported ISO country",
                self.default_country
            ),
        );
        check(
            valid_locale(&self.locale),
            format!(
                "locale '{}' is not a language tag like 'ru' or 'ru-RU'",
                self.locale
            ),
        );
    }

    /// Points, accrual, redemption and expiry.
    fn validate_points(&self, check: &mut impl FnMut(bool, String)) {
        check(self.points.scale <= 4, "points.scale must be 0..=4".into());
        check(
            self.points.value > Decimal::ZERO,
            "points.value must be positive".into(),
        );
        let unit = self.points.value * Decimal::new(1, self.points.scale.min(4));
        check(
            (unit * Decimal::ONE_HUNDRED).fract().is_zero() && unit > Decimal::ZERO,
            format!(
                "the smallest point unit is worth {unit}, not a whole number of kopecks; change points.value or points.scale"
            ),
        );
        check(
            percent_ok(self.accrual.rate_percent),
            "accrual.rate_percent must be 0..=100".into(),
        );
        for (kind, rate) in self.accrual.rate_by_kind.values() {
            check(
                percent_ok(rate),
                format!("accrual.rate_by_kind.{kind:?} must be 0..=100").to_lowercase(),
            );
        }
        check(
            self.accrual.min_bill >= Decimal::ZERO,
            "accrual.min_bill must not be negative".into(),
        );
        check(
            self.accrual.start_after_total_spend >= Decimal::ZERO,
            "accrual.start_after_total_spend must not be negative".into(),
        );
        check(
            percent_ok(self.redemption.cap_percent),
            "redemption.cap_percent must be 0..=100".into(),
        );
        check(
            self.redemption.min_bill >= Decimal::ZERO,
            "redemption.min_bill must not be negative".into(),
        );
        if let Some(months) = self.expiry_months {
            check(
                (1..=120).contains(&months),
                "expiry_months must be 1..=120 or null".into(),
            );
            check(
                (self.pending_days as u64) < months as u64 * 28,
                "pending_days must be shorter than the expiry".into(),
            );
        }
        check(
            self.pending_days <= 90,
            "pending_days must be 0..=90".into(),
        );
        check(
            (1..=10_080).contains(&self.hold_ttl_minutes),
            "hold_ttl_minutes must be 1..=10080".into(),
        );
        check(
            self.expiring_notice_days <= 365,
            "expiring_notice_days must be 0..=365".into(),
        );
    }

    /// The welcome and birthday bonuses.
    fn validate_bonuses(&self, check: &mut impl FnMut(bool, String)) {
        if let Some(bonus) = &self.welcome_bonus {
            check(
                bonus_ok(bonus.points),
                "welcome_bonus.points must be positive and at most 1000000".into(),
            );
            check(
                bonus.points.scale() <= self.points.scale,
                "welcome_bonus.points has more decimals than points.scale".into(),
            );
            check(
                bonus.expiry_days.is_none_or(|d| (1..=3660).contains(&d)),
                "welcome_bonus.expiry_days must be 1..=3660".into(),
            );
        }
        if let Some(bonus) = &self.birthday_bonus {
            check(
                bonus_ok(bonus.points),
                "birthday_bonus.points must be positive and at most 1000000".into(),
            );
            check(
                bonus.points.scale() <= self.points.scale,
                "birthday_bonus.points has more decimals than points.scale".into(),
            );
            check(
                bonus.days_before <= 60,
                "birthday_bonus.days_before must be 0..=60".into(),
            );
            check(
                bonus.days_after <= 60,
                "birthday_bonus.days_after must be 0..=60".into(),
            );
        }
    }

    /// Tier levels: codes unique, percents in range, each no easier than the one below.
    fn validate_tiers(&self, check: &mut impl FnMut(bool, String)) {
        check(
            (1..=3660).contains(&self.tiers.window_days),
            "tiers.window_days must be 1..=3660".into(),
        );
        check(
            self.tiers.levels.len() <= LEVELS_MAX,
            format!("at most {LEVELS_MAX} tiers"),
        );
        let mut previous: Option<&Tier> = None;
        for (index, tier) in self.tiers.levels.iter().enumerate() {
            let at = format!("tiers.levels[{index}]");
            check(
                valid_code(&tier.code),
                format!("{at}.code '{}' must be 1..=32 of a-z, 0-9, _", tier.code),
            );
            check(
                self.tiers
                    .levels
                    .iter()
                    .filter(|t| t.code == tier.code)
                    .count()
                    == 1,
                format!("{at}.code '{}' is used twice", tier.code),
            );
            check(
                tier.min_spend >= Decimal::ZERO,
                format!("{at}.min_spend must not be negative"),
            );
            check(
                percent_ok(tier.discount_percent),
                format!("{at}.discount_percent must be 0..=100"),
            );
            if let Some(rate) = tier.rate_percent {
                check(
                    percent_ok(rate),
                    format!("{at}.rate_percent must be 0..=100"),
                );
            }
            for (_, rate) in tier
                .rate_by_kind
                .values()
                .chain(tier.discount_by_kind.values())
            {
                check(
                    percent_ok(rate),
                    format!("{at}: per-kind percents must be 0..=100"),
                );
            }
            if let Some(prev) = previous {
                check(
                    tier.min_spend >= prev.min_spend && tier.min_visits >= prev.min_visits,
                    format!(
                        "{at} ('{}') must not need less than the tier below it ('{}')",
                        tier.code, prev.code
                    ),
                );
            }
            previous = Some(tier);
        }
    }

    /// Corporate agreements: codes unique, percents in range.
    fn validate_agreements(&self, check: &mut impl FnMut(bool, String)) {
        check(
            self.agreements.len() <= LEVELS_MAX * 4,
            "at most 64 agreements".into(),
        );
        for (index, agreement) in self.agreements.iter().enumerate() {
            let at = format!("agreements[{index}]");
            check(
                valid_code(&agreement.code),
                format!(
                    "{at}.code '{}' must be 1..=32 of a-z, 0-9, _",
                    agreement.code
                ),
            );
            check(
                self.agreements
                    .iter()
                    .filter(|a| a.code == agreement.code)
                    .count()
                    == 1,
                format!("{at}.code '{}' is used twice", agreement.code),
            );
            for (_, percent) in agreement.discount_by_kind.values() {
                check(
                    percent_ok(percent),
                    format!("{at}.discount_by_kind percents must be 0..=100"),
                );
            }
        }
    }

    /// The discount cap, cumulative steps and the VIP rule.
    fn validate_discounts(&self, check: &mut impl FnMut(bool, String)) {
        check(
            percent_ok(self.discounts.max_percent),
            "discounts.max_percent must be 0..=100".into(),
        );
        check(
            self.discounts.cumulative.len() <= LEVELS_MAX,
            format!("at most {LEVELS_MAX} cumulative steps"),
        );
        for (index, step) in self.discounts.cumulative.iter().enumerate() {
            check(
                percent_ok(step.percent),
                format!("discounts.cumulative[{index}].percent must be 0..=100"),
            );
            check(
                step.min_total_spend >= Decimal::ZERO,
                format!("discounts.cumulative[{index}].min_total_spend must not be negative"),
            );
            if index > 0 {
                let prev = &self.discounts.cumulative[index - 1];
                check(
                    step.min_total_spend > prev.min_total_spend,
                    format!(
                        "discounts.cumulative[{index}] must need more spend than the step before it"
                    ),
                );
            }
        }
        if let Some(vip) = &self.discounts.vip {
            check(
                percent_ok(vip.discount_percent),
                "discounts.vip.discount_percent must be 0..=100".into(),
            );
            check(
                vip.min_total_spend.is_some() || vip.min_visits.is_some(),
                "discounts.vip needs min_total_spend or min_visits".into(),
            );
        }
    }

    fn validate_growth(&self, check: &mut impl FnMut(bool, String)) {
        check(
            self.exclusive.len() <= LEVELS_MAX * 16,
            format!("at most {} exclusive rules", LEVELS_MAX * 16),
        );
        for (index, rule) in self.exclusive.iter().enumerate() {
            let at = format!("exclusive[{index}]");
            check(
                rule.sku.is_some() || rule.category.is_some(),
                format!("{at} needs sku or category"),
            );
            for pattern in [&rule.sku, &rule.category].into_iter().flatten() {
                check(
                    (1..=64).contains(&pattern.chars().count())
                        && pattern != "*"
                        && !pattern.trim_end_matches('*').contains('*'),
                    format!(
                        "{at}: pattern '{pattern}' must be 1..=64 characters with at most a trailing *"
                    ),
                );
            }
            check(
                self.tier(&rule.min_tier).is_some(),
                format!("{at}.min_tier '{}' is not a tier", rule.min_tier),
            );
        }
        if let Some(referral) = &self.referral {
            self.validate_referral(referral, check);
        }
    }

    /// The referral rules: thresholds, points, expiry and the cashback levels.
    fn validate_referral(&self, referral: &ReferralRules, check: &mut impl FnMut(bool, String)) {
        let points_ok = |p: Decimal| {
            p >= Decimal::ZERO
                && p <= Decimal::from(BONUS_POINTS_MAX)
                && p.scale() <= self.points.scale
        };
        check(
            referral.min_first_visit >= Decimal::ZERO,
            "referral.min_first_visit must not be negative".into(),
        );
        check(
            points_ok(referral.referrer_points) && points_ok(referral.referee_points),
            "referral points must be 0..=1000000 on points.scale".into(),
        );
        check(
            referral.expiry_days.is_none_or(|d| (1..=3660).contains(&d)),
            "referral.expiry_days must be 1..=3660".into(),
        );
        if let Some(cashback) = &referral.cashback {
            check(
                (1..=2).contains(&cashback.levels.len()),
                "referral.cashback.levels has 1 or 2 levels".into(),
            );
            check(
                cashback
                    .levels
                    .iter()
                    .all(|p| *p >= Decimal::ZERO && *p <= Decimal::from(50)),
                "referral.cashback.levels percents must be 0..=50".into(),
            );
            check(
                cashback.levels.windows(2).all(|w| w[1] <= w[0]),
                "referral.cashback.levels: the second level must not pay more than the first"
                    .into(),
            );
            for (name, max) in [
                ("per_visit_max", cashback.per_visit_max),
                ("total_max", cashback.total_max),
            ] {
                check(
                    max.is_none_or(|m| m > Decimal::ZERO && points_ok(m)),
                    format!("referral.cashback.{name} must be positive, at most 1000000"),
                );
            }
            check(
                cashback.period_days.is_none_or(|d| (1..=3660).contains(&d)),
                "referral.cashback.period_days must be 1..=3660".into(),
            );
        }
    }
}

fn percent_ok(percent: Decimal) -> bool {
    percent >= Decimal::ZERO && percent <= Decimal::ONE_HUNDRED
}

fn bonus_ok(points: Decimal) -> bool {
    points > Decimal::ZERO && points <= Decimal::from(BONUS_POINTS_MAX)
}

fn valid_code(code: &str) -> bool {
    (1..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
