//! The programme: one versioned JSON document holding every rule of the shop's
//! loyalty scheme. `program.set` validates the whole document, lists every problem,
//! and stores it as a new version; visits record the version they were priced with.

mod example;
pub mod feedback_rules;
pub mod reminder_rules;
mod validate;

use crate::error::{Error, ErrorCode, Result};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Arguments of `program.set`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramSetArgs {
    /// The programme document.
    pub program: serde_json::Value,
}

/// Kind of a basket line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LineKind {
    /// Labour (works).
    Labor,
    /// Spare parts.
    Part,
    /// Goods (oils, accessories, consumables sold over the counter).
    Goods,
}

impl LineKind {
    /// All kinds.
    pub const ALL: [LineKind; 3] = [LineKind::Labor, LineKind::Part, LineKind::Goods];
}

/// A value per kind of line; a missing kind falls back to the default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerKind {
    /// Value for labour.
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub labor: Option<Decimal>,
    /// Value for parts.
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub part: Option<Decimal>,
    /// Value for goods.
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub goods: Option<Decimal>,
}

impl PerKind {
    /// The value for a kind, if set.
    pub fn get(&self, kind: LineKind) -> Option<Decimal> {
        match kind {
            LineKind::Labor => self.labor,
            LineKind::Part => self.part,
            LineKind::Goods => self.goods,
        }
    }
    fn values(&self) -> impl Iterator<Item = (LineKind, Decimal)> + '_ {
        LineKind::ALL
            .into_iter()
            .filter_map(|kind| self.get(kind).map(|v| (kind, v)))
    }
}

/// Point value and precision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsRules {
    /// Money one point is worth when redeemed (e.g. `"1.00"`).
    #[serde(default = "one", deserialize_with = "crate::amount::decimal")]
    pub value: Decimal,
    /// Decimal places of points (0 = whole points).
    #[serde(default)]
    pub scale: u32,
}

impl Default for PointsRules {
    fn default() -> Self {
        PointsRules {
            value: Decimal::ONE,
            scale: 0,
        }
    }
}

/// How points are earned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccrualRules {
    /// Percent of the money paid returned as points' worth.
    #[serde(default, deserialize_with = "crate::amount::decimal")]
    pub rate_percent: Decimal,
    /// Per-kind rates overriding `rate_percent`.
    #[serde(default)]
    pub rate_by_kind: PerKind,
    /// Kinds of line that earn.
    #[serde(default = "all_kinds")]
    pub kinds: Vec<LineKind>,
    /// Minimum bill (after discounts) for the visit to earn anything.
    #[serde(default, deserialize_with = "crate::amount::decimal")]
    pub min_bill: Decimal,
    /// Earning starts only once the customer's lifetime spend reaches this.
    #[serde(default, deserialize_with = "crate::amount::decimal")]
    pub start_after_total_spend: Decimal,
    /// Whether lines the host already discounted earn.
    #[serde(default = "yes")]
    pub on_discounted_lines: bool,
    /// Whether lines sold at a campaign price earn.
    #[serde(default = "yes")]
    pub on_promo_lines: bool,
    /// Whether a visit that pays with points still earns on its money part.
    #[serde(default = "yes")]
    pub when_redeeming: bool,
}

impl Default for AccrualRules {
    fn default() -> Self {
        AccrualRules {
            rate_percent: Decimal::ZERO,
            rate_by_kind: PerKind::default(),
            kinds: all_kinds(),
            min_bill: Decimal::ZERO,
            start_after_total_spend: Decimal::ZERO,
            on_discounted_lines: true,
            on_promo_lines: true,
            when_redeeming: true,
        }
    }
}

/// How points pay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedemptionRules {
    /// Kinds of line points may pay for.
    #[serde(default = "all_kinds")]
    pub kinds: Vec<LineKind>,
    /// Most of the eligible amount points may pay, in percent.
    #[serde(default = "hundred", deserialize_with = "crate::amount::decimal")]
    pub cap_percent: Decimal,
    /// Minimum bill (after discounts) for points to pay at all.
    #[serde(default, deserialize_with = "crate::amount::decimal")]
    pub min_bill: Decimal,
    /// Whether points pay for lines sold at a campaign price.
    #[serde(default = "yes")]
    pub on_promo_lines: bool,
}

impl Default for RedemptionRules {
    fn default() -> Self {
        RedemptionRules {
            kinds: all_kinds(),
            cap_percent: Decimal::ONE_HUNDRED,
            min_bill: Decimal::ZERO,
            on_promo_lines: true,
        }
    }
}

/// A one-off bonus (welcome).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bonus {
    /// Points granted.
    #[serde(deserialize_with = "crate::amount::decimal")]
    pub points: Decimal,
    /// Days the bonus lives (default: the programme's expiry).
    #[serde(default)]
    pub expiry_days: Option<u32>,
}

/// Birthday bonus: granted `days_before` the birthday, burns `days_after` it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BirthdayBonus {
    /// Points granted.
    #[serde(deserialize_with = "crate::amount::decimal")]
    pub points: Decimal,
    /// Days before the birthday the bonus is granted.
    #[serde(default)]
    pub days_before: u32,
    /// Days after the birthday the bonus stays usable.
    #[serde(default = "seven")]
    pub days_after: u32,
}

/// Whether a tier needs both thresholds or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TierCondition {
    /// Spend and visits both reached.
    #[default]
    All,
    /// Either reached.
    Any,
}

/// A status level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Stable code (`silver`).
    pub code: String,
    /// Display name (`Серебро`).
    #[serde(default)]
    pub name: String,
    /// Spend within the window needed.
    #[serde(default, deserialize_with = "crate::amount::decimal")]
    pub min_spend: Decimal,
    /// Visits within the window needed.
    #[serde(default)]
    pub min_visits: u32,
    /// Whether both or either threshold qualifies.
    #[serde(default)]
    pub condition: TierCondition,
    /// Accrual rate at this tier (overrides the base rate).
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub rate_percent: Option<Decimal>,
    /// Per-kind accrual rates at this tier.
    #[serde(default)]
    pub rate_by_kind: PerKind,
    /// Discount percent at this tier.
    #[serde(default, deserialize_with = "crate::amount::decimal")]
    pub discount_percent: Decimal,
    /// Per-kind discounts at this tier (override `discount_percent`).
    #[serde(default)]
    pub discount_by_kind: PerKind,
    /// Benefit flags shown to the cashier (`priority_service`, `exclusive_parts`, ...).
    #[serde(default)]
    pub benefits: Vec<String>,
}

/// Tier rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierRules {
    /// Rolling window in days over which spend and visits count.
    #[serde(default = "year_days")]
    pub window_days: u32,
    /// Levels from lowest to highest.
    #[serde(default)]
    pub levels: Vec<Tier>,
}

impl Default for TierRules {
    fn default() -> Self {
        TierRules {
            window_days: 365,
            levels: Vec::new(),
        }
    }
}

/// A corporate agreement (fleet, taxi company).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    /// Stable code referenced by corporate customers.
    pub code: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Discount per kind of line.
    #[serde(default)]
    pub discount_by_kind: PerKind,
    /// Whether the agreement's visits earn points.
    #[serde(default)]
    pub accrual: bool,
    /// Whether points may pay under the agreement.
    #[serde(default)]
    pub redemption: bool,
}

/// A step of the cumulative discount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscountStep {
    /// Lifetime spend from which the step applies.
    #[serde(deserialize_with = "crate::amount::decimal")]
    pub min_total_spend: Decimal,
    /// Discount percent.
    #[serde(deserialize_with = "crate::amount::decimal")]
    pub percent: Decimal,
}

/// VIP card thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VipRules {
    /// Lifetime spend that grants VIP (if set).
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub min_total_spend: Option<Decimal>,
    /// Lifetime visits that grant VIP (if set).
    #[serde(default)]
    pub min_visits: Option<u32>,
    /// VIP discount percent.
    #[serde(default, deserialize_with = "crate::amount::decimal")]
    pub discount_percent: Decimal,
}

/// How several discounts on one line combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DiscountCombination {
    /// The largest discount wins.
    #[default]
    Best,
    /// Discounts add up (capped by `max_discount_percent`).
    Sum,
}

/// Discount rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscountRules {
    /// How tier, agreement, cumulative and VIP discounts combine.
    #[serde(default)]
    pub combination: DiscountCombination,
    /// Highest total loyalty discount on a line, in percent.
    #[serde(default = "hundred", deserialize_with = "crate::amount::decimal")]
    pub max_percent: Decimal,
    /// Whether lines the host already discounted get loyalty discounts too.
    #[serde(default)]
    pub on_discounted_lines: bool,
    /// Whether campaign-price lines get loyalty discounts.
    #[serde(default)]
    pub on_promo_lines: bool,
    /// Steps of the cumulative discount by lifetime spend.
    #[serde(default)]
    pub cumulative: Vec<DiscountStep>,
    /// VIP card rules.
    #[serde(default)]
    pub vip: Option<VipRules>,
}

impl Default for DiscountRules {
    fn default() -> Self {
        DiscountRules {
            combination: DiscountCombination::Best,
            max_percent: Decimal::ONE_HUNDRED,
            on_discounted_lines: false,
            on_promo_lines: false,
            cumulative: Vec::new(),
            vip: None,
        }
    }
}

/// The loyalty programme document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Program {
    /// Version assigned by `program.set` (ignored on input).
    #[serde(default)]
    pub version: u32,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// ISO 4217 currency code.
    #[serde(default = "rub")]
    pub currency: String,
    /// IANA timezone that decides local days (`Europe/Moscow`).
    #[serde(default = "moscow")]
    pub timezone: String,
    /// ISO country used for phone numbers typed without a country code.
    #[serde(default = "ru")]
    pub default_country: String,
    /// Language of the people who run the shop, as a BCP 47 tag (`ru`, `ru-RU`, `en`):
    /// the command line and the demo print their labels, numbers and dates in it.
    /// Machine-readable output never depends on it.
    #[serde(default = "ru_locale")]
    pub locale: String,
    /// Point value and precision.
    #[serde(default)]
    pub points: PointsRules,
    /// Earning.
    #[serde(default)]
    pub accrual: AccrualRules,
    /// Paying with points.
    #[serde(default)]
    pub redemption: RedemptionRules,
    /// Months a lot lives; it burns at the end of its last local day. `null` = never.
    #[serde(default)]
    pub expiry_months: Option<u32>,
    /// Days accrued points stay pending (return window).
    #[serde(default)]
    pub pending_days: u32,
    /// Minutes a points hold lives before it is released by itself.
    #[serde(default = "hold_minutes")]
    pub hold_ttl_minutes: u32,
    /// Welcome bonus at registration.
    #[serde(default)]
    pub welcome_bonus: Option<Bonus>,
    /// Birthday bonus.
    #[serde(default)]
    pub birthday_bonus: Option<BirthdayBonus>,
    /// Tiers.
    #[serde(default)]
    pub tiers: TierRules,
    /// Corporate agreements.
    #[serde(default)]
    pub agreements: Vec<Agreement>,
    /// Discounts.
    #[serde(default)]
    pub discounts: DiscountRules,
    /// Points expiring within this many days are announced to the cashier.
    #[serde(default = "thirty")]
    pub expiring_notice_days: u32,
    /// Points for feedback.
    #[serde(default)]
    pub feedback: feedback_rules::FeedbackRules,
    /// Reminders: service intervals, delays, season windows, texts.
    #[serde(default)]
    pub reminders: reminder_rules::ReminderRules,
    /// Parts and services sold only from a tier up (the exclusive catalogue).
    #[serde(default)]
    pub exclusive: Vec<ExclusiveRule>,
    /// Referral rewards (none when absent).
    #[serde(default)]
    pub referral: Option<ReferralRules>,
}

/// A line of the exclusive catalogue: SKUs and/or categories sold only to customers at
/// `min_tier` or above. A pattern is an exact value or a prefix ending in `*`
/// (`"MOTUL-300V*"`); matching ignores case. A rule with both matches a line that
/// matches both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExclusiveRule {
    /// SKU pattern.
    #[serde(default)]
    pub sku: Option<String>,
    /// Category pattern.
    #[serde(default)]
    pub category: Option<String>,
    /// Lowest tier code that may buy it.
    pub min_tier: String,
}

impl ExclusiveRule {
    /// Whether a line with this SKU and category falls under the rule.
    pub fn matches(&self, sku: &str, category: Option<&str>) -> bool {
        let sku_ok = self.sku.as_deref().is_none_or(|p| pattern_matches(p, sku));
        let category_ok = match (&self.category, category) {
            (None, _) => true,
            (Some(p), Some(c)) => pattern_matches(p, c),
            (Some(_), None) => false,
        };
        (self.sku.is_some() || self.category.is_some()) && sku_ok && category_ok
    }
}

/// Exact match, or a prefix match when the pattern ends in `*`; case is ignored.
pub fn pattern_matches(pattern: &str, value: &str) -> bool {
    let value = value.to_lowercase();
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(&prefix.to_lowercase()),
        None => value == pattern.to_lowercase(),
    }
}

/// Referral rewards: points when a referred customer's first qualifying visit is paid,
/// and cashback from referees' purchases to one or two levels of referrers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralRules {
    /// The smallest net bill of the referee's visit that earns the signup rewards.
    #[serde(default, deserialize_with = "crate::amount::decimal")]
    pub min_first_visit: Decimal,
    /// Points to the referrer (0 = none).
    #[serde(default, deserialize_with = "crate::amount::decimal")]
    pub referrer_points: Decimal,
    /// Points to the referee (0 = none; both set = two-sided).
    #[serde(default, deserialize_with = "crate::amount::decimal")]
    pub referee_points: Decimal,
    /// Days reward and cashback points live (default: the programme's expiry).
    #[serde(default)]
    pub expiry_days: Option<u32>,
    /// Multi-level cashback from referees' purchases.
    #[serde(default)]
    pub cashback: Option<CashbackRules>,
}

/// Cashback to referrers: `levels[0]` percent of what a referee pays in money goes to
/// the referrer, `levels[1]` to the referrer's referrer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CashbackRules {
    /// Percent per level, nearest referrer first (1 or 2 levels).
    #[serde(deserialize_with = "crate::amount::list")]
    pub levels: Vec<Decimal>,
    /// Most points one referrer gets from one visit.
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub per_visit_max: Option<Decimal>,
    /// Most points one referrer gets from one referee over all time.
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub total_max: Option<Decimal>,
    /// Only visits within this many days of the referee's registration pay cashback.
    #[serde(default)]
    pub period_days: Option<u32>,
}

fn one() -> Decimal {
    Decimal::ONE
}
fn hundred() -> Decimal {
    Decimal::ONE_HUNDRED
}
fn yes() -> bool {
    true
}
fn seven() -> u32 {
    7
}
fn thirty() -> u32 {
    30
}
fn year_days() -> u32 {
    365
}
fn hold_minutes() -> u32 {
    30
}
fn all_kinds() -> Vec<LineKind> {
    LineKind::ALL.to_vec()
}
fn rub() -> String {
    "RUB".into()
}
fn moscow() -> String {
    "Europe/Moscow".into()
}
fn ru() -> String {
    "RU".into()
}
fn ru_locale() -> String {
    "ru".into()
}

/// Whether `tag` is a language tag of the form the doors understand: a language of 2–3
/// lowercase letters, optionally `-` and a region of 2 uppercase letters or 3 digits.
/// Deliberately narrower than BCP 47: scripts and variants change nothing we print.
pub fn valid_locale(tag: &str) -> bool {
    let (language, region) = match tag.split_once('-') {
        Some((language, region)) => (language, Some(region)),
        None => (tag, None),
    };
    let language_ok =
        (2..=3).contains(&language.len()) && language.chars().all(|c| c.is_ascii_lowercase());
    let region_ok = region.is_none_or(|r| {
        (r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()))
            || (r.len() == 3 && r.chars().all(|c| c.is_ascii_digit()))
    });
    language_ok && region_ok
}

/// Largest number of tiers, agreements or discount steps.
pub const LEVELS_MAX: usize = 16;
/// Largest points amount any single rule may grant.
pub const BONUS_POINTS_MAX: u32 = 1_000_000;

impl Program {
    /// The last local day a lot of points created `today` may be used, when points expire.
    pub fn expiry_date(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.expiry_months
            .and_then(|months| today.checked_add_months(chrono::Months::new(months)))
    }

    /// Parse and validate a programme document; every problem is listed.
    pub fn from_json(value: serde_json::Value) -> Result<Program> {
        let program: Program = serde_path_to_error::deserialize(value).map_err(|err| {
            // The path says where in the document (`accrual.rate_percent: ...`).
            let problem = match err.path().to_string().as_str() {
                "." => err.inner().to_string(),
                path => format!("{path}: {}", err.inner()),
            };
            Error::new(
                ErrorCode::InvalidProgram,
                format!("the programme is not valid: {problem}"),
            )
            .with_details(json!({ "problems": [problem] }))
        })?;
        program.validate()?;
        Ok(program)
    }

    /// Position of a tier from the bottom (0 = lowest); `None` for no or unknown tier.
    pub fn tier_rank(&self, code: Option<&str>) -> Option<usize> {
        let code = code?;
        self.tiers.levels.iter().position(|tier| tier.code == code)
    }

    /// Whether a customer at `tier` may buy lines of tier `min_tier`.
    pub fn tier_reaches(&self, tier: Option<&str>, min_tier: &str) -> bool {
        match (self.tier_rank(tier), self.tier_rank(Some(min_tier))) {
            (Some(have), Some(need)) => have >= need,
            (None, Some(_)) => false,
            (_, None) => true,
        }
    }

    /// The programme's timezone (validated at set).
    pub fn tz(&self) -> Tz {
        self.timezone
            .parse::<Tz>()
            .unwrap_or(chrono_tz::Europe::Moscow)
    }

    /// The local date of an instant in the programme's timezone.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz()).date_naive()
    }

    /// The tier with this code.
    pub fn tier(&self, code: &str) -> Option<&Tier> {
        self.tiers.levels.iter().find(|tier| tier.code == code)
    }

    /// The agreement with this code.
    pub fn agreement(&self, code: &str) -> Option<&Agreement> {
        self.agreements
            .iter()
            .find(|agreement| agreement.code == code)
    }

    /// The smallest amount of points (1 at scale 0, 0.01 at scale 2).
    pub fn point_unit(&self) -> Decimal {
        Decimal::new(1, self.points.scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_programme_is_valid() {
        Program::from_json(Program::example()).unwrap();
    }

    #[test]
    fn every_problem_is_listed() {
        let err = Program::from_json(json!({
            "currency": "rub",
            "timezone": "Mars/Olympus",
            "points": { "value": "0.001", "scale": 0 },
            "redemption": { "cap_percent": "150" },
            "tiers": { "levels": [ { "code": "gold", "min_spend": "100" }, { "code": "silver", "min_spend": "10" } ] }
        }))
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidProgram);
        let problems = err.details["problems"].as_array().unwrap();
        assert!(problems.len() >= 5, "{problems:?}");
    }

    #[test]
    fn locale_defaults_to_russian_and_must_be_a_language_tag() {
        let program = Program::from_json(json!({})).unwrap();
        assert_eq!(program.locale, "ru");
        for good in ["ru", "ru-RU", "en", "en-GB", "es-419", "kk"] {
            assert!(valid_locale(good), "{good}");
        }
        for bad in ["", "RU", "ru_RU", "russian", "ru-ru", "ru-RU-x", "r", "ру"] {
            let err = Program::from_json(json!({ "locale": bad })).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidProgram, "{bad}");
            assert!(err.message.contains("locale"), "{bad}: {}", err.message);
        }
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = Program::from_json(json!({ "acrual": {} })).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidProgram);
        assert!(err.message.contains("acrual"));
    }
}
