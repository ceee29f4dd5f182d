//! The programme's reminder rules: which kinds are on, service intervals, tyre seasons,
//! quality calls, lapsed customers, and the message templates with their placeholders.
//! Values only; `crate::reminder` finds who is due by them.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why a customer is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReminderKind {
    /// Periodic service by time and/or mileage.
    ServiceDue,
    /// Points about to burn.
    PointsExpiring,
    /// Birthday.
    Birthday,
    /// A declined recommendation.
    Recommendation,
    /// The tyre season turns and a set is stored.
    TyreSeason,
    /// A special order arrived.
    OrderArrived,
    /// Quality-control call after a visit.
    QualityCall,
    /// A valuable car overdue for its usual visit.
    Lapsed,
    /// Asked for by a promotion plugin at checkout (its `reminder` effect).
    Promotion,
}

impl ReminderKind {
    /// Every kind, in the order `reminders.due` lists them.
    pub const ALL: [ReminderKind; 9] = [
        ReminderKind::ServiceDue,
        ReminderKind::PointsExpiring,
        ReminderKind::Birthday,
        ReminderKind::Recommendation,
        ReminderKind::TyreSeason,
        ReminderKind::OrderArrived,
        ReminderKind::QualityCall,
        ReminderKind::Lapsed,
        ReminderKind::Promotion,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::ServiceDue => "service_due",
            ReminderKind::PointsExpiring => "points_expiring",
            ReminderKind::Birthday => "birthday",
            ReminderKind::Recommendation => "recommendation",
            ReminderKind::TyreSeason => "tyre_season",
            ReminderKind::OrderArrived => "order_arrived",
            ReminderKind::QualityCall => "quality_call",
            ReminderKind::Lapsed => "lapsed",
            ReminderKind::Promotion => "promotion",
        }
    }

    /// A task for the shop's staff (a quality call), not a text for the customer.
    pub fn is_staff_task(self) -> bool {
        self == ReminderKind::QualityCall
    }

    pub(crate) fn from_name(name: &str) -> Option<ReminderKind> {
        ReminderKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Template used when the programme gives none. `{shop}` is the programme's name in
    /// the nominative, so it stands as a subject or a signature, never after a
    /// preposition («в {shop}» would need a case the name does not have).
    pub fn default_template(self) -> &'static str {
        match self {
            ReminderKind::ServiceDue => {
                "{first_name}, для {car} подходит срок: {service} (до {due_on}). Запишитесь: {shop}."
            }
            ReminderKind::PointsExpiring => {
                "{first_name}, {expires_on} сгорят ваши баллы: {points}. Успейте потратить их! {shop}"
            }
            ReminderKind::Birthday => {
                "{first_name}, с днём рождения! {shop} дарит вам бонусные баллы."
            }
            ReminderKind::Recommendation => {
                "{first_name}, {recommended_on} мы рекомендовали для {car}: {work}. Запишитесь на удобное время."
            }
            ReminderKind::TyreSeason => {
                "{first_name}, пора менять шины! Ваш комплект ({season}) ждёт вас. {shop}"
            }
            ReminderKind::OrderArrived => {
                "{first_name}, ваш заказ прибыл: {part}, {qty} шт. Ждём вас! {shop}"
            }
            ReminderKind::QualityCall => {
                "Позвонить: {full_name}, визит {visit_date}, {car}. Всё ли в порядке после ремонта?"
            }
            ReminderKind::Lapsed => {
                "{first_name}, давно не виделись! {car} был у нас {last_visit}. Приглашаем на осмотр."
            }
            ReminderKind::Promotion => "{first_name}, {text}",
        }
    }

    /// Placeholders a template of this kind may use (besides the common ones).
    pub(crate) fn own_fields(self) -> &'static [&'static str] {
        match self {
            ReminderKind::ServiceDue => &["service", "due_km"],
            ReminderKind::PointsExpiring => &["points", "expires_on"],
            ReminderKind::Birthday => &["birthday"],
            ReminderKind::Recommendation => &["work", "price", "recommended_on"],
            ReminderKind::TyreSeason => &["season", "location", "items"],
            ReminderKind::OrderArrived => &["part", "qty"],
            ReminderKind::QualityCall => &["visit_date", "order_id"],
            ReminderKind::Lapsed => &["last_visit", "usual_days"],
            ReminderKind::Promotion => &["text", "plugin", "reminder_kind", "order_id"],
        }
    }
}

/// Placeholders every template may use.
pub const COMMON_FIELDS: [&str; 8] = [
    "full_name",
    "first_name",
    "shop",
    "due_on",
    "car",
    "make",
    "model",
    "plate",
];

/// A periodic service: which lines count as it, and its interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceRule {
    /// Stable code (`oil_change`, `to_2`, `timing_belt`).
    pub kind: String,
    /// Name used in texts (`Замена масла`).
    pub name: String,
    /// Interval in months (`null`: by mileage only).
    #[serde(default)]
    pub months: Option<u32>,
    /// Interval in km (`null`: by time only).
    #[serde(default)]
    pub km: Option<u32>,
    /// Case-insensitive patterns (`*` = any text) matched against a line's SKU and name.
    pub patterns: Vec<String>,
}

/// A season window, `MM-DD` to `MM-DD` inclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeasonWindow {
    /// First day, `MM-DD`.
    pub from: String,
    /// Last day, `MM-DD`.
    pub to: String,
}

/// When customers with stored sets are called.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TyreSeasonRules {
    /// Winter sets are due in this window.
    pub autumn: SeasonWindow,
    /// Summer sets are due in this window.
    pub spring: SeasonWindow,
}

impl Default for TyreSeasonRules {
    fn default() -> Self {
        TyreSeasonRules {
            autumn: SeasonWindow {
                from: "10-01".into(),
                to: "11-15".into(),
            },
            spring: SeasonWindow {
                from: "03-20".into(),
                to: "04-30".into(),
            },
        }
    }
}

/// Quality-control call after a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityCallRules {
    /// First day after the visit to call.
    #[serde(default = "two")]
    pub after_days_min: u32,
    /// Last day after the visit to call.
    #[serde(default = "three")]
    pub after_days_max: u32,
}

impl Default for QualityCallRules {
    fn default() -> Self {
        QualityCallRules {
            after_days_min: 2,
            after_days_max: 3,
        }
    }
}

/// Who counts as a valuable customer gone quiet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LapsedRules {
    /// Lifetime visits that make a customer valuable (`null`: not by visits).
    #[serde(default = "four")]
    pub min_visits: Option<u32>,
    /// Lifetime spend that makes a customer valuable (`null`: not by spend).
    #[serde(default, deserialize_with = "crate::amount::optional")]
    pub min_spend: Option<Decimal>,
    /// A car is lapsed once its last visit is older than its usual interval × this.
    #[serde(
        default = "one_and_a_half",
        deserialize_with = "crate::amount::decimal"
    )]
    pub factor: Decimal,
    /// Visits of the car needed to know its usual interval (at least 2).
    #[serde(default = "three")]
    pub min_car_visits: u32,
}

impl Default for LapsedRules {
    fn default() -> Self {
        LapsedRules {
            min_visits: Some(4),
            min_spend: None,
            factor: one_and_a_half(),
            min_car_visits: 3,
        }
    }
}

fn two() -> u32 {
    2
}
fn three() -> u32 {
    3
}
fn four() -> Option<u32> {
    Some(4)
}
fn seven() -> u32 {
    7
}
fn fourteen() -> u32 {
    14
}
fn one_and_a_half() -> Decimal {
    Decimal::new(15, 1)
}
fn some_14() -> Option<u32> {
    Some(14)
}
fn some_0() -> Option<u32> {
    Some(0)
}
fn some_30() -> Option<u32> {
    Some(30)
}
fn some_season() -> Option<TyreSeasonRules> {
    Some(TyreSeasonRules::default())
}
fn some_quality() -> Option<QualityCallRules> {
    Some(QualityCallRules::default())
}
fn some_lapsed() -> Option<LapsedRules> {
    Some(LapsedRules::default())
}
fn yes() -> bool {
    true
}

/// The programme's `reminders` section. A kind set to `null` is off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ReminderRules {
    /// Days a reminder stays due after its date (a skipped day loses nothing).
    #[serde(default = "fourteen")]
    pub window_days: u32,
    /// Periodic services.
    #[serde(default)]
    pub services: Vec<ServiceRule>,
    /// Days before the predicted service date to remind.
    #[serde(default = "seven")]
    pub service_days_before: u32,
    /// Points burning within this many days are announced.
    #[serde(default = "some_14")]
    pub points_expiring_days: Option<u32>,
    /// Days before the birthday to remind.
    #[serde(default = "some_0")]
    pub birthday_days_before: Option<u32>,
    /// Days after a declined recommendation to remind.
    #[serde(default = "some_30")]
    pub recommendation_after_days: Option<u32>,
    /// Season windows for stored tyre sets.
    #[serde(default = "some_season")]
    pub tyre_season: Option<TyreSeasonRules>,
    /// Whether arrived special orders are due.
    #[serde(default = "yes")]
    pub order_arrived: bool,
    /// Quality-control calls.
    #[serde(default = "some_quality")]
    pub quality_call: Option<QualityCallRules>,
    /// Lapsed valuable customers.
    #[serde(default = "some_lapsed")]
    pub lapsed: Option<LapsedRules>,
    /// Texts by kind (`{field}` placeholders); a kind without one uses the default.
    #[serde(default)]
    pub templates: BTreeMap<String, String>,
}

impl Default for ReminderRules {
    fn default() -> Self {
        ReminderRules {
            window_days: 14,
            services: Vec::new(),
            service_days_before: 7,
            points_expiring_days: Some(14),
            birthday_days_before: Some(0),
            recommendation_after_days: Some(30),
            tyre_season: some_season(),
            order_arrived: true,
            quality_call: some_quality(),
            lapsed: some_lapsed(),
            templates: BTreeMap::new(),
        }
    }
}

/// Most service rules.
pub const SERVICES_MAX: usize = 32;
/// Most patterns of one service.
pub const PATTERNS_MAX: usize = 16;
/// Longest template in characters.
pub const TEMPLATE_CHARS_MAX: usize = 500;

pub(crate) fn parse_month_day(text: &str) -> Option<(u32, u32)> {
    let (m, d) = text.split_once('-')?;
    if m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (m, d): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
    // 2024 is a leap year, so 02-29 is accepted.
    NaiveDate::from_ymd_opt(2024, m, d).map(|_| (m, d))
}

pub(crate) fn code_ok(code: &str) -> bool {
    (1..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl ReminderRules {
    /// Add every problem to `problems`.
    pub fn validate(&self, problems: &mut Vec<String>) {
        let mut check = |ok: bool, problem: String| {
            if !ok {
                problems.push(problem);
            }
        };
        check(
            (1..=90).contains(&self.window_days),
            "reminders.window_days must be 1..=90".into(),
        );
        check(
            self.service_days_before <= 90,
            "reminders.service_days_before must be 0..=90".into(),
        );
        self.validate_services(problems);
        self.validate_timing(problems);
        self.validate_templates(problems);
    }

    /// The service rules: codes, names, intervals and name patterns.
    fn validate_services(&self, problems: &mut Vec<String>) {
        let mut check = |ok: bool, problem: String| {
            if !ok {
                problems.push(problem);
            }
        };
        check(
            self.services.len() <= SERVICES_MAX,
            format!("at most {SERVICES_MAX} reminders.services"),
        );
        for (i, rule) in self.services.iter().enumerate() {
            let at = format!("reminders.services[{i}]");
            check(
                code_ok(&rule.kind),
                format!("{at}.kind '{}' must be 1..=32 of a-z, 0-9, _", rule.kind),
            );
            check(
                self.services.iter().filter(|r| r.kind == rule.kind).count() == 1,
                format!("{at}.kind '{}' is used twice", rule.kind),
            );
            check(
                !rule.name.trim().is_empty() && rule.name.chars().count() <= 200,
                format!("{at}.name must be 1..=200 characters"),
            );
            check(
                rule.months.is_some() || rule.km.is_some(),
                format!("{at} needs months or km"),
            );
            check(
                rule.months.is_none_or(|m| (1..=120).contains(&m)),
                format!("{at}.months must be 1..=120"),
            );
            check(
                rule.km.is_none_or(|km| (100..=1_000_000).contains(&km)),
                format!("{at}.km must be 100..=1000000"),
            );
            check(
                (1..=PATTERNS_MAX).contains(&rule.patterns.len()),
                format!("{at}.patterns must list 1..={PATTERNS_MAX} patterns"),
            );
            for pattern in &rule.patterns {
                check(
                    (1..=64).contains(&pattern.chars().count())
                        && pattern.chars().any(|c| c != '*'),
                    format!("{at}.patterns: '{pattern}' must be 1..=64 characters, not only *"),
                );
            }
        }
    }

    /// When the other reminders are due: lead times, the tyre season, the quality call and
    /// what counts as lapsed.
    fn validate_timing(&self, problems: &mut Vec<String>) {
        let mut check = |ok: bool, problem: String| {
            if !ok {
                problems.push(problem);
            }
        };
        for (field, days) in [
            ("points_expiring_days", self.points_expiring_days),
            ("birthday_days_before", self.birthday_days_before),
            ("recommendation_after_days", self.recommendation_after_days),
        ] {
            check(
                days.is_none_or(|d| d <= 365),
                format!("reminders.{field} must be 0..=365 or null"),
            );
        }
        if let Some(season) = &self.tyre_season {
            for (name, window) in [("autumn", &season.autumn), ("spring", &season.spring)] {
                for (end, text) in [("from", &window.from), ("to", &window.to)] {
                    check(
                        parse_month_day(text).is_some(),
                        format!("reminders.tyre_season.{name}.{end} '{text}' is not MM-DD"),
                    );
                }
            }
        }
        if let Some(call) = &self.quality_call {
            check(
                call.after_days_min <= call.after_days_max && call.after_days_max <= 60,
                "reminders.quality_call needs after_days_min <= after_days_max <= 60".into(),
            );
        }
        if let Some(lapsed) = &self.lapsed {
            check(
                lapsed.factor >= Decimal::ONE && lapsed.factor <= Decimal::from(10),
                "reminders.lapsed.factor must be 1..=10".into(),
            );
            check(
                (2..=20).contains(&lapsed.min_car_visits),
                "reminders.lapsed.min_car_visits must be 2..=20".into(),
            );
            check(
                lapsed.min_spend.is_none_or(|s| s >= Decimal::ZERO),
                "reminders.lapsed.min_spend must not be negative".into(),
            );
        }
    }

    /// Templates: known kinds, lengths and placeholders.
    fn validate_templates(&self, problems: &mut Vec<String>) {
        let mut check = |ok: bool, problem: String| {
            if !ok {
                problems.push(problem);
            }
        };
        for (name, template) in &self.templates {
            let Some(kind) = ReminderKind::from_name(name) else {
                check(
                    false,
                    format!("reminders.templates: '{name}' is not a reminder kind"),
                );
                continue;
            };
            check(
                !template.trim().is_empty() && template.chars().count() <= TEMPLATE_CHARS_MAX,
                format!("reminders.templates.{name} must be 1..={TEMPLATE_CHARS_MAX} characters"),
            );
            match placeholders(template) {
                Err(problem) => check(false, format!("reminders.templates.{name}: {problem}")),
                Ok(fields) => {
                    for field in fields {
                        check(
                            COMMON_FIELDS.contains(&field.as_str())
                                || kind.own_fields().contains(&field.as_str()),
                            format!(
                                "reminders.templates.{name}: unknown placeholder {{{field}}}; known: {}",
                                COMMON_FIELDS
                                    .iter()
                                    .chain(kind.own_fields())
                                    .copied()
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        );
                    }
                }
            }
        }
    }

    pub(crate) fn template(&self, kind: ReminderKind) -> &str {
        self.templates
            .get(kind.as_str())
            .map(String::as_str)
            .unwrap_or_else(|| kind.default_template())
    }

    pub(crate) fn service(&self, kind: &str) -> Option<&ServiceRule> {
        self.services.iter().find(|s| s.kind == kind)
    }
}

/// The placeholders of a template; `{{` and `}}` are literal braces.
pub fn placeholders(template: &str) -> std::result::Result<Vec<String>, String> {
    let mut out = Vec::new();
    render_with(template, |name| {
        out.push(name.to_string());
        String::new()
    })?;
    Ok(out)
}

/// Render a template; `value` gives each placeholder's text.
pub(crate) fn render_with(
    template: &str,
    mut value: impl FnMut(&str) -> String,
) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) if c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit() => {
                            name.push(c)
                        }
                        Some(c) => return Err(format!("'{c}' inside a placeholder")),
                        None => return Err("a placeholder is not closed".into()),
                    }
                    if name.len() > 32 {
                        return Err("a placeholder name is longer than 32".into());
                    }
                }
                if name.is_empty() {
                    return Err("an empty placeholder {}".into());
                }
                out.push_str(&value(&name));
            }
            '}' => return Err("a lone '}' (write }} for a brace)".into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Wildcard match (`*` = any text, possibly empty) of texts already lowercased, so the
/// match is case-insensitive and a visit's lines are lowercased once, not once per
/// pattern. Works on bytes: UTF-8 is self-synchronising, so a pattern's
/// characters can only match whole characters of the text, wherever a `*` resumes.
pub(crate) fn glob_match_lowered(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] != b'*' && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}
