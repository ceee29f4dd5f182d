//! The programme: one versioned JSON document holding every rule of the shop's
//! loyalty scheme. `program.set` validates the whole document, lists every problem,
//! and stores it as a new version; visits record the version they were priced with.

pub mod feedback_rules;
pub mod reminder_rules;

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

    /// Check every rule; returns `invalid_program` with all problems.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, problem: String| {
            if !ok {
                problems.push(problem)
            }
        };
        let percent_ok = |p: Decimal| p >= Decimal::ZERO && p <= Decimal::ONE_HUNDRED;
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
        let bonus_ok = |p: Decimal| p > Decimal::ZERO && p <= Decimal::from(BONUS_POINTS_MAX);
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
        let Some(referral) = &self.referral else {
            return;
        };
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

    /// A realistic example programme for a Russian service station.
    pub fn example() -> serde_json::Value {
        json!({
            "name": "Клуб автосервиса",
            "currency": "RUB",
            "timezone": "Europe/Moscow",
            "default_country": "RU",
            "locale": "ru-RU",
            "points": { "value": "1", "scale": 0 },
            "accrual": {
                "rate_percent": "5",
                "rate_by_kind": { "labor": "7", "part": "3" },
                "kinds": ["labor", "part", "goods"],
                "min_bill": "500",
                "on_promo_lines": false
            },
            "redemption": { "kinds": ["labor"], "cap_percent": "30", "min_bill": "1000" },
            "expiry_months": 12,
            "pending_days": 14,
            "hold_ttl_minutes": 30,
            "welcome_bonus": { "points": "300", "expiry_days": 90 },
            "birthday_bonus": { "points": "500", "days_before": 3, "days_after": 7 },
            "tiers": {
                "window_days": 365,
                "levels": [
                    { "code": "base", "name": "Базовый" },
                    { "code": "silver", "name": "Серебро", "min_spend": "30000", "min_visits": 2,
                      "rate_by_kind": { "labor": "8", "part": "4", "goods": "5" }, "discount_percent": "3" },
                    { "code": "gold", "name": "Золото", "min_spend": "80000", "min_visits": 4,
                      "rate_by_kind": { "labor": "10", "part": "5", "goods": "6" }, "discount_percent": "5",
                      "benefits": ["priority_service"] },
                    { "code": "platinum", "name": "Платина", "min_spend": "200000", "min_visits": 6,
                      "rate_by_kind": { "labor": "12", "part": "6", "goods": "7" }, "discount_percent": "7",
                      "benefits": ["priority_service", "exclusive_parts"] }
                ]
            },
            "agreements": [
                { "code": "taxi", "name": "Таксопарк", "discount_by_kind": { "labor": "15", "part": "5" },
                  "accrual": false, "redemption": false }
            ],
            "discounts": {
                "combination": "best",
                "max_percent": "20",
                "cumulative": [
                    { "min_total_spend": "50000", "percent": "2" },
                    { "min_total_spend": "150000", "percent": "4" }
                ],
                "vip": { "min_total_spend": "500000", "discount_percent": "10" }
            },
            "expiring_notice_days": 30,
            "feedback": { "bonus_points": "100", "bonus_kinds": ["review", "praise", "complaint"], "bonus_expiry_days": 90 },
            "reminders": {
                "window_days": 14,
                "services": [
                    { "kind": "oil_change", "name": "замена масла", "months": 12, "km": 10000,
                      "patterns": ["*замена масла*", "TO-*", "ТО-*"] },
                    { "kind": "to_2", "name": "ТО-2", "months": 24, "km": 30000,
                      "patterns": ["TO-2*", "ТО-2*"] },
                    { "kind": "brake_fluid", "name": "замена тормозной жидкости", "months": 24,
                      "patterns": ["*тормозн*жидк*", "BRAKE-FLUID*"] },
                    { "kind": "timing_belt", "name": "замена ремня ГРМ", "months": 60, "km": 60000,
                      "patterns": ["*ремн* грм*", "TB-*"] },
                    { "kind": "air_conditioning", "name": "обслуживание кондиционера", "months": 12,
                      "patterns": ["*кондиционер*", "AC-*"] }
                ],
                "service_days_before": 7,
                "points_expiring_days": 14,
                "birthday_days_before": 3,
                "recommendation_after_days": 30,
                "tyre_season": { "autumn": { "from": "10-01", "to": "11-15" },
                                 "spring": { "from": "03-20", "to": "04-30" } },
                "order_arrived": true,
                "quality_call": { "after_days_min": 2, "after_days_max": 3 },
                "lapsed": { "min_visits": 4, "min_spend": "50000", "factor": "1.5", "min_car_visits": 3 },
                "templates": {
                    "service_due": "{first_name}, для {car} подходит срок: {service} (до {due_on}). Запишитесь: {shop}.",
                    "points_expiring": "{first_name}, {expires_on} сгорят ваши баллы: {points}. Успейте потратить их у нас."
                }
            },
            "exclusive": [
                { "sku": "MOTUL-300V*", "min_tier": "gold" },
                { "category": "эксклюзив", "min_tier": "platinum" }
            ],
            "referral": {
                "min_first_visit": "3000", "referrer_points": "500", "referee_points": "300",
                "expiry_days": 180,
                "cashback": { "levels": ["3", "1"], "per_visit_max": "1000", "total_max": "10000",
                              "period_days": 365 }
            }
        })
    }
}

fn valid_code(code: &str) -> bool {
    (1..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
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
