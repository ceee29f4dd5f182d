//! The dashboard's labels in the programme's language, and its numbers, money, shares,
//! months and dates written the way that language writes them (`1 234,50 ₽`, `12,5 %`,
//! `янв 2025` in Russian). The digits themselves come from [`Language::number`], the
//! same rule the cashier's notes and the command line use.

use crate::normalize;
use crate::wording::{self, Language};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// No-break space: between a number and its unit, so the two never part.
const NBSP: char = '\u{a0}';

/// Every label of the page, in one language.
pub(super) struct Words {
    pub lang: &'static str,
    pub title: &'static str,
    pub period: &'static str,
    pub branch: &'static str,
    pub all_branches: &'static str,
    pub group_wide: &'static str,
    pub generated: &'static str,
    pub no_data: &'static str,
    pub total: &'static str,
    pub revenue_title: &'static str,
    pub customers_title: &'static str,
    pub points_title: &'static str,
    pub campaigns_title: &'static str,
    pub complaints_title: &'static str,
    pub month: &'static str,
    pub revenue: &'static str,
    pub visits: &'static str,
    pub average_check: &'static str,
    pub customers: &'static str,
    pub new_customers: &'static str,
    pub returning_customers: &'static str,
    pub returning_share: &'static str,
    pub issued: &'static str,
    pub redeemed: &'static str,
    pub expired: &'static str,
    pub outstanding: &'static str,
    pub liability: &'static str,
    pub accounts_with_balance: &'static str,
    pub campaign: &'static str,
    pub notified: &'static str,
    pub came: &'static str,
    pub conversion: &'static str,
    pub budget: &'static str,
    pub cost_per_customer: &'static str,
    pub employee: &'static str,
    pub employee_unnamed: &'static str,
    pub complaints: &'static str,
    pub feedback: &'static str,
    pub average_rating: &'static str,
    pub cohorts_title: &'static str,
    pub cohort: &'static str,
    pub months_after: &'static str,
    pub tiers_title: &'static str,
    pub tier: &'static str,
    pub no_tier: &'static str,
    pub tier_from: &'static str,
    pub tier_to: &'static str,
    pub direction: &'static str,
    pub reason: &'static str,
    pub moves: &'static str,
    pub moves_up: &'static str,
    pub moves_down: &'static str,
    pub moves_changed: &'static str,
    pub reasons: [&'static str; 4],
    pub no_moves: &'static str,
    pub liability_title: &'static str,
    pub adjusted: &'static str,
    pub expiring: &'static str,
    pub expiring_within: [&'static str; 3],
    pub expiring_customers: &'static str,
    pub nothing_expires: &'static str,
    pub top_title: &'static str,
    pub customer: &'static str,
    pub last_visit: &'static str,
    pub best_of_month: &'static str,
    pub customers_in_period: &'static str,
    pub months: [&'static str; 12],
}

const RUSSIAN: Words = Words {
    lang: "ru",
    title: "Панель владельца",
    period: "Период",
    branch: "Филиал",
    all_branches: "все филиалы",
    group_wide: "Уровни, баллы и кампании — по всей сети",
    generated: "Сформировано",
    no_data: "Нет данных за период",
    total: "Итого",
    revenue_title: "Выручка и визиты по месяцам",
    customers_title: "Новые и вернувшиеся клиенты",
    points_title: "Баллы и обязательства",
    campaigns_title: "Результаты кампаний",
    complaints_title: "Жалобы по сотрудникам",
    month: "Месяц",
    revenue: "Выручка",
    visits: "Визиты",
    average_check: "Средний чек",
    customers: "Клиенты",
    new_customers: "Новые",
    returning_customers: "Вернувшиеся",
    returning_share: "Доля вернувшихся",
    issued: "Начислено",
    redeemed: "Списано",
    expired: "Сгорело",
    outstanding: "На счетах",
    liability: "Обязательства",
    accounts_with_balance: "Счетов с баллами",
    campaign: "Кампания",
    notified: "Оповещено",
    came: "Пришли",
    conversion: "Конверсия",
    budget: "Бюджет",
    cost_per_customer: "Цена клиента",
    employee: "Сотрудник",
    employee_unnamed: "Не указан",
    complaints: "Жалобы",
    feedback: "Отзывы",
    average_rating: "Средняя оценка",
    cohorts_title: "Удержание по когортам (месяц первого визита)",
    cohort: "Когорта",
    months_after: "По горизонтали — месяцы после первого визита; в клетке — сколько процентов когорты пришло в этот месяц",
    tiers_title: "Уровни: состав и переходы",
    tier: "Уровень",
    no_tier: "Без уровня",
    tier_from: "Был",
    tier_to: "Стал",
    direction: "Куда",
    reason: "Причина",
    moves: "Переходов",
    moves_up: "Вверх",
    moves_down: "Вниз",
    moves_changed: "Уровень снят",
    reasons: ["визит", "возврат", "пересмотр", "импорт"],
    no_moves: "Переходов между уровнями за период не было",
    liability_title: "Обязательства по баллам по месяцам и что скоро сгорит",
    adjusted: "Корректировки",
    expiring: "Сгорит",
    expiring_within: ["за 30 дней", "за 60 дней", "за 90 дней"],
    expiring_customers: "Клиентов, у которых баллы сгорят за 90 дней",
    nothing_expires: "В ближайшие 90 дней баллы не сгорают",
    top_title: "Лучшие клиенты по выручке",
    customer: "Клиент",
    last_visit: "Последний визит",
    best_of_month: "Самый активный клиент месяца",
    customers_in_period: "Клиентов за период",
    months: [
        "янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек",
    ],
};

const ENGLISH: Words = Words {
    lang: "en",
    title: "Owner's dashboard",
    period: "Period",
    branch: "Branch",
    all_branches: "all branches",
    group_wide: "Tiers, points and campaigns cover the whole group",
    generated: "Generated",
    no_data: "No data for the period",
    total: "Total",
    revenue_title: "Revenue and visits by month",
    customers_title: "New and returning customers",
    points_title: "Points and the liability",
    campaigns_title: "Campaign results",
    complaints_title: "Complaints by employee",
    month: "Month",
    revenue: "Revenue",
    visits: "Visits",
    average_check: "Average check",
    customers: "Customers",
    new_customers: "New",
    returning_customers: "Returning",
    returning_share: "Returning share",
    issued: "Issued",
    redeemed: "Redeemed",
    expired: "Expired",
    outstanding: "On accounts",
    liability: "Liability",
    accounts_with_balance: "Accounts with points",
    campaign: "Campaign",
    notified: "Notified",
    came: "Came",
    conversion: "Conversion",
    budget: "Budget",
    cost_per_customer: "Cost per customer",
    employee: "Employee",
    employee_unnamed: "Not named",
    complaints: "Complaints",
    feedback: "Feedback",
    average_rating: "Average rating",
    cohorts_title: "Retention by cohort (month of the first visit)",
    cohort: "Cohort",
    months_after: "Across: months after the first visit; in each cell: the % of the cohort that came that month",
    tiers_title: "Tiers: the mix and the moves",
    tier: "Tier",
    no_tier: "No tier",
    tier_from: "From",
    tier_to: "To",
    direction: "Direction",
    reason: "Reason",
    moves: "Moves",
    moves_up: "Up",
    moves_down: "Down",
    moves_changed: "Tier withdrawn",
    reasons: ["visit", "refund", "review", "import"],
    no_moves: "No moves between tiers in the period",
    liability_title: "The points liability by month, and what expires soon",
    adjusted: "Adjusted",
    expiring: "Expires",
    expiring_within: ["within 30 days", "within 60 days", "within 90 days"],
    expiring_customers: "Customers whose points expire within 90 days",
    nothing_expires: "No points expire in the next 90 days",
    top_title: "Top customers by revenue",
    customer: "Customer",
    last_visit: "Last visit",
    best_of_month: "The month's most active customer",
    customers_in_period: "Customers in the period",
    months: [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ],
};

/// How the page writes in one language.
#[derive(Clone, Copy)]
pub(super) struct Speech {
    pub language: Language,
    pub words: &'static Words,
    currency_sign: &'static str,
}

impl Speech {
    pub fn new(language: Language, currency: &str) -> Speech {
        let words = match language {
            Language::Russian => &RUSSIAN,
            Language::English => &ENGLISH,
        };
        let currency_sign = match currency {
            "RUB" => "₽",
            "USD" => "$",
            "EUR" => "€",
            _ => "",
        };
        Speech {
            language,
            words,
            currency_sign,
        }
    }

    /// A decimal as this language writes it: `1 234,5`.
    pub fn number(&self, value: Decimal) -> String {
        self.language.number(&value.normalize().to_string())
    }

    /// A count: `12 345`.
    pub fn count(&self, value: u64) -> String {
        self.language.number(&value.to_string())
    }

    /// Money with two decimals and the currency: `1 234,50 ₽` (the ISO code when the
    /// currency has no sign here).
    pub fn money(&self, value: Decimal, currency: &str) -> String {
        let digits = self
            .language
            .number(&normalize::exact_scale(normalize::money(value), 2).to_string());
        match self.currency_sign {
            "" => format!("{digits}{NBSP}{currency}"),
            sign => format!("{digits}{NBSP}{sign}"),
        }
    }

    /// A share in percent: `12,5 %` in Russian, `12.5%` in English.
    pub fn percent(&self, value: Decimal) -> String {
        let digits = self.language.number(&value.to_string());
        match self.language {
            Language::Russian => format!("{digits}{NBSP}%"),
            Language::English => format!("{digits}%"),
        }
    }

    /// A value on a chart's axis: whole numbers grouped, fractions to two places.
    pub fn axis(&self, value: f64) -> String {
        let decimal = Decimal::from_f64_retain(value)
            .map(|d| d.round_dp(2).normalize())
            .unwrap_or_default();
        self.number(decimal)
    }

    /// A report's month (`2025-01`) as `янв 2025`; anything else unchanged.
    pub fn month(&self, month: &str) -> String {
        let parsed = month
            .split_once('-')
            .and_then(|(year, m)| Some((year, m.parse::<usize>().ok()?)));
        match parsed {
            Some((year, m @ 1..=12)) => format!("{}{NBSP}{year}", self.words.months[m - 1]),
            _ => month.to_string(),
        }
    }

    /// A date: `01.12.2025` in Russian, ISO in English.
    pub fn date(&self, date: NaiveDate) -> String {
        match self.language {
            Language::Russian => wording::format_date(date),
            Language::English => date.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_money_shares_and_months() {
        let ru = Speech::new(Language::Russian, "RUB");
        assert_eq!(
            ru.money(Decimal::new(1234567, 1), "RUB"),
            "123\u{a0}456,70\u{a0}₽"
        );
        assert_eq!(ru.percent(Decimal::new(125, 1)), "12,5\u{a0}%");
        assert_eq!(ru.month("2024-02"), "фев\u{a0}2024");
        assert_eq!(ru.month("2024-13"), "2024-13");
        assert_eq!(ru.axis(2_500_000.0), "2\u{a0}500\u{a0}000");
        assert_eq!(ru.axis(0.5), "0,5");
    }

    #[test]
    fn english_money_without_a_known_sign_names_the_code() {
        let en = Speech::new(Language::English, "KZT");
        assert_eq!(
            en.money(Decimal::new(-123456, 2), "KZT"),
            "-1,234.56\u{a0}KZT"
        );
        assert_eq!(en.percent(Decimal::new(1000, 1)), "100.0%");
        assert_eq!(en.count(1_000_000), "1,000,000");
    }
}
