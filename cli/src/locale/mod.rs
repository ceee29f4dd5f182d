//! The shop's language in human output: one catalogue of labels keyed by id, in Russian
//! and English, the plural rules of both, and numbers, money and dates the way the
//! shop's staff write them (`1 234,50 ₽`, `01.12.2025` in Russian).
//!
//! The language is the programme's `locale`; any language other than Russian gets
//! English. Only human output goes through here: `--json`, CSV headers and CSV values
//! are read by programs and never change with the locale.
//!
//! Two languages do not need a plural-rules crate: the Russian rule is the three-form
//! CLDR rule for integers (one: 1, 21, 101; few: 2–4, 22–24; many: the rest, 11–14), and a
//! fractional count takes the «other» form (1,5 балла), which is the «few» word.

mod labels;

use chrono::NaiveDate;
use labels::{FIELDS, VALUES};
use pitstop_core::{Engine, PluralForm, Program};
use serde_json::Value;

/// The language the command line speaks: the core's, so the cashier's notes and the
/// CLI's tables write numbers and counts alike.
pub use pitstop_core::Language as Lang;

/// How human output speaks: the language and the programme's currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locale {
    lang: Lang,
    currency: String,
    /// The programme's tiers: code and display name.
    tiers: Vec<(String, String)>,
}

impl Default for Locale {
    /// Russian roubles: what a programme without `locale` and `currency` means.
    fn default() -> Locale {
        Locale::new("ru", "RUB")
    }
}

impl Locale {
    /// The locale of a BCP 47 tag (`ru`, `ru-RU` are Russian; anything else English).
    pub fn new(tag: &str, currency: &str) -> Locale {
        let lang = Lang::of_tag(tag);
        Locale {
            lang,
            currency: currency.to_string(),
            tiers: Vec::new(),
        }
    }

    /// The locale a programme asks for, with its tiers' names.
    pub fn of_program(program: &Program) -> Locale {
        let mut locale = Locale::new(&program.locale, &program.currency);
        locale.tiers = program
            .tiers
            .levels
            .iter()
            .map(|t| (t.code.clone(), t.name.clone()))
            .collect();
        locale
    }

    /// The locale of the store's programme (the default when it has none yet).
    pub fn of(engine: &Engine) -> Locale {
        engine
            .program()
            .map_or_else(Locale::default, |p| Locale::of_program(&p))
    }

    /// A tier's display name from its code (a JSON string or null): what people call
    /// the tier, never the code, unless the programme gives it no name.
    pub fn tier(&self, code: &Value) -> String {
        let Some(code) = code.as_str() else {
            return String::new();
        };
        match self.tiers.iter().find(|(c, _)| c == code) {
            Some((_, name)) if !name.trim().is_empty() => name.clone(),
            _ => code.to_string(),
        }
    }

    /// The language (for output that picks its own wording, like `simulate`).
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The label `msg` in this language.
    pub fn t(&self, msg: Msg) -> &'static str {
        let (ru, en) = msg.texts();
        match self.lang {
            Lang::Russian => ru,
            Lang::English => en,
        }
    }

    /// The label `msg` with its `{name}` placeholders filled.
    pub fn fill(&self, msg: Msg, args: &[(&str, &str)]) -> String {
        let mut text = self.t(msg).to_string();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// The word for `noun` after the count `n` (`реферал`, `реферала`, `рефералов`).
    pub fn noun(&self, n: u64, noun: Noun) -> &'static str {
        let (one, few, many, en_one, en_other) = noun.forms();
        match self.lang {
            Lang::Russian => match self.lang.plural(n) {
                PluralForm::One => one,
                PluralForm::Few => few,
                PluralForm::Many => many,
            },
            Lang::English if n == 1 => en_one,
            Lang::English => en_other,
        }
    }

    /// A count and its noun: «1 реферал», «5 рефералов», "1 referee".
    pub fn count(&self, n: u64, noun: Noun) -> String {
        format!("{} {}", self.integer(n), self.noun(n, noun))
    }

    /// A count given as a decimal string (points may have decimals): «1,5 балла».
    pub fn count_text(&self, text: &str, noun: Noun) -> String {
        let word = match text.parse::<u64>() {
            Ok(n) => self.noun(n, noun),
            // A fraction takes the «other» form in both languages.
            Err(_) => self.noun(2, noun),
        };
        format!("{} {word}", self.number(text))
    }

    /// An integer with thousands grouped.
    pub fn integer(&self, n: u64) -> String {
        self.number(&n.to_string())
    }

    /// A decimal string (`-1234.50`) in this language (`−1 234,50`); anything that is
    /// not a plain decimal (an id, a phone) comes back unchanged.
    pub fn number(&self, text: &str) -> String {
        self.lang.number(text)
    }

    /// A JSON number or decimal string as a number; null is empty, other text unchanged.
    pub fn num(&self, value: &Value) -> String {
        match value {
            Value::Null => String::new(),
            Value::String(s) => self.number(s),
            Value::Number(n) => self.number(&n.to_string()),
            other => other.to_string(),
        }
    }

    /// A float rounded to `decimals` places.
    pub fn float(&self, x: f64, decimals: usize) -> String {
        self.number(&format!("{x:.decimals$}"))
    }

    /// The programme's currency sign (₽ for roubles, else the ISO code).
    pub fn currency_sign(&self) -> &str {
        match self.currency.as_str() {
            "RUB" => "₽",
            other => other,
        }
    }

    /// An amount with the currency: «1 234,50 ₽»; empty stays empty.
    pub fn money(&self, value: &Value) -> String {
        let number = self.num(value);
        if number.is_empty() {
            return number;
        }
        format!("{number}\u{a0}{}", self.currency_sign())
    }

    /// A date: `01.12.2025` in Russian, ISO `2025-12-01` in English.
    pub fn date(&self, date: NaiveDate) -> String {
        match self.lang {
            Lang::Russian => date.format("%d.%m.%Y").to_string(),
            Lang::English => date.format("%Y-%m-%d").to_string(),
        }
    }

    /// A JSON date (`2025-12-01`) or instant (`2025-12-01T09:00:00Z`, its date part) as a
    /// date; a month (`2025-12`) as `12.2025`; anything else unchanged.
    pub fn date_of(&self, value: &Value) -> String {
        let text = crate::output::cell(value);
        let head = text.get(..10).unwrap_or_default();
        if let Ok(date) = NaiveDate::parse_from_str(head, "%Y-%m-%d") {
            return self.date(date);
        }
        if self.lang == Lang::Russian
            && text.len() == 7
            && let Some((year, month)) = text.split_once('-')
            && year.len() == 4
            && month.len() == 2
            && (year.chars().chain(month.chars())).all(|c| c.is_ascii_digit())
        {
            return format!("{month}.{year}");
        }
        text
    }

    /// Yes or no.
    pub fn yes_no(&self, yes: bool) -> &'static str {
        self.t(if yes { Msg::Yes } else { Msg::No })
    }

    /// The name of a code an operation returned as a value (`service_due`,
    /// `arrived`, `summer`); unknown codes unchanged. Lists are named item by item.
    pub fn value(&self, value: &Value) -> String {
        match value {
            Value::Array(items) => items
                .iter()
                .map(|item| self.value(item))
                .collect::<Vec<_>>()
                .join(", "),
            other => {
                let code = crate::output::cell(other);
                match VALUES.iter().find(|(c, _, _)| *c == code) {
                    Some((_, ru, en)) => match self.lang {
                        Lang::Russian => ru.to_string(),
                        Lang::English => en.to_string(),
                    },
                    None => code,
                }
            }
        }
    }

    /// The label of a field of an operation's result, for key/value blocks; the key
    /// itself when the catalogue has none.
    pub fn field<'a>(&self, key: &'a str) -> &'a str {
        match FIELDS.iter().find(|(k, _, _)| *k == key) {
            Some((_, ru, en)) => match self.lang {
                Lang::Russian => ru,
                Lang::English => en,
            },
            None => key,
        }
    }
}

/// Nouns counted in output: Russian one/few/many, English one/other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Noun {
    Customer,
    Referee,
    Point,
    Reminder,
    Receipt,
    Problem,
    Car,
    Driver,
    Answer,
    Recommendation,
    WorkOrder,
    Record,
    Day,
}

impl Noun {
    fn forms(
        self,
    ) -> (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ) {
        match self {
            Noun::Customer => ("клиент", "клиента", "клиентов", "customer", "customers"),
            Noun::Referee => ("реферал", "реферала", "рефералов", "referee", "referees"),
            Noun::Point => ("балл", "балла", "баллов", "point", "points"),
            Noun::Reminder => (
                "напоминание",
                "напоминания",
                "напоминаний",
                "reminder",
                "reminders",
            ),
            Noun::Receipt => ("чек", "чека", "чеков", "receipt", "receipts"),
            Noun::Problem => ("проблема", "проблемы", "проблем", "problem", "problems"),
            Noun::Car => ("автомобиль", "автомобиля", "автомобилей", "car", "cars"),
            Noun::Driver => ("водитель", "водителя", "водителей", "driver", "drivers"),
            Noun::Answer => ("ответ", "ответа", "ответов", "answer", "answers"),
            Noun::Recommendation => (
                "рекомендация",
                "рекомендации",
                "рекомендаций",
                "recommendation",
                "recommendations",
            ),
            Noun::WorkOrder => (
                "заказ-наряд",
                "заказ-наряда",
                "заказ-нарядов",
                "work order",
                "work orders",
            ),
            Noun::Record => ("запись", "записи", "записей", "record", "records"),
            Noun::Day => ("день", "дня", "дней", "day", "days"),
        }
    }
}

/// Declares the catalogue: one id per label, its Russian and English text.
macro_rules! catalogue {
    ($($id:ident => $ru:literal, $en:literal;)*) => {
        /// A label of human output.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Msg { $($id,)* }

        impl Msg {
            /// Every label (for the catalogue's own tests).
            #[cfg(test)]
            pub const ALL: &[Msg] = &[$(Msg::$id,)*];

            fn texts(self) -> (&'static str, &'static str) {
                match self { $(Msg::$id => ($ru, $en),)* }
            }
        }
    };
}

catalogue! {
    Yes => "да", "yes";
    TiersNote => "переходы при оплате взяты из визитов за всю историю; переходы после возвратов, ежедневного пересмотра и импорта записываются с появлением этого отчёта, более ранние не сохранялись", "moves at checkout come from the visits for all history; moves by refunds, the daily review and imports are recorded since this report exists, earlier ones were not kept";
    LapsedRule => "ценные (деньги M ≥ 4), не меньше двух дней визитов за период, и дней без визитов больше, чем обычный интервал × {factor}", "valuable (money M ≥ 4), at least two visit days in the period, and more days without a visit than the usual interval × {factor}";
    No => "нет", "no";
    None_ => "нет", "none";
    // The customer card.
    Card => "карта", "card";
    Phone => "телефон", "phone";
    Email => "эл. почта", "email";
    Birthday => "день рождения", "birthday";
    Kind => "тип", "kind";
    Status => "статус", "status";
    ExternalId => "код в старой системе", "external id";
    Source => "источник", "source";
    Tags => "метки", "tags";
    Notes => "заметки", "notes";
    Visits => "визиты", "visits";
    TotalSpend => "сумма покупок", "total spend";
    LastVisit => "последний визит", "last visit";
    Blacklisted => "в чёрном списке", "blacklisted";
    Tier => "уровень", "tier";
    TierNext => "до уровня «{tier}»: потратить ещё {spend}, визитов ещё {visits}",
        "next {tier}: spend {spend} more, {visits} more visits";
    Points => "баллы", "points";
    Balance => "{available} доступно ({money}), {pending} ожидают, {held} заблокировано, всего {total}",
        "{available} available ({money} money), {pending} pending, {held} held, {total} total";
    Expiring => "сгорят", "expiring";
    ExpiringOn => "{points} — {date}", "{points} on {date}";
    Cars => "Автомобили", "Cars";
    Plate => "госномер", "plate";
    Vin => "VIN", "vin";
    Make => "марка", "make";
    Model => "модель", "model";
    Year => "год", "year";
    Km => "пробег, км", "km";
    LastVisits => "Последние визиты", "Last visits";
    Date => "дата", "date";
    Order => "заказ", "order";
    Net => "сумма", "net";
    PaidPoints => "оплачено баллами", "paid pts";
    Earned => "начислено", "earned";
    Id => "№", "id";
    Name => "ФИО", "name";
    Matches => "{n} по запросу {query}; уточните запрос:", "{n} match {query}; narrow the query:";
    RemindersNotShown => "напоминания не показаны: {message} ({code})",
        "reminders not shown: {message} ({code})";
    // Stores.
    StoreCreated => "хранилище создано в {path}, программа «{name}»",
        "store created at {path} with the programme «{name}»";
    BackupWritten => "резервная копия записана в {path}", "backup written to {path}";
    Restored => "{backup} восстановлена в {path}", "restored {backup} into {path}";
    Copied => "хранилище {from} скопировано в {to}", "copied the store {from} into {to}";
    SecondBranch => "Второй филиал «{branch}»: второе рабочее место на том же PostgreSQL, {count} чеков за день; баллы общие для всей сети",
        "Second branch «{branch}»: a second workstation on the same PostgreSQL store, {count} checkouts today; points are shared by the whole group";
    BranchToday => "  {branch}: визитов сегодня {visits}, выручка {revenue}, списано баллов {points}",
        "  {branch}: visits today {visits}, revenue {revenue}, points paid {points}";
    Enabled => "включён", "enabled";
    Priority => "приоритет", "priority";
    OnError => "при ошибке", "on_error";
    Hooks => "точки вызова", "hooks";
    Bytes => "байт", "bytes";
    Plugin => "плагин", "name";
    // Reminders.
    ReminderKind => "вид", "kind";
    Customer => "клиент", "customer";
    Car => "автомобиль", "car";
    Due => "срок", "due";
    Text => "текст", "text";
    Channels => "каналы", "channels";
    DueOn => "{count} на {date}", "{count} due on {date}";
    Row => "строка", "row";
    Outcome => "результат", "outcome";
    Error => "ошибка", "error";
    Message => "сообщение", "message";
    MarkedOne => "{id}: отмечено «{status}» ({channel})", "{id} marked {status} ({channel})";
    MarkedMany => "отмечено: {marked}, с ошибкой: {failed}", "{marked} marked, {failed} failed";
    // Card sections.
    OpenRecommendations => "Открытые рекомендации", "Open recommendations";
    Work => "работа", "work";
    Urgency => "срочность", "urgency";
    Price => "цена", "price";
    Since => "с даты", "since";
    Advisor => "мастер-приёмщик", "advisor";
    TyreStorage => "Шины на хранении", "Tyres in storage";
    Season => "сезон", "season";
    Items => "предметов", "items";
    Location => "место", "location";
    SpecialOrders => "Заказные запчасти", "Special orders";
    Part => "запчасть", "part";
    Qty => "кол-во", "qty";
    Ordered => "заказано", "ordered";
    Expected => "ожидается", "expected";
    Arrived => "прибыло", "arrived";
    RemindersToday => "Напоминания на сегодня", "Reminders due today";
    // Reports.
    Period => "период", "period";
    Complaints => "жалобы", "complaints";
    Feedback => "отзывы", "feedback";
    Rating => "оценка", "rating";
    Employee => "сотрудник", "employee";
    Month => "месяц", "month";
    ByEmployee => "По сотрудникам", "By employee";
    ByMonth => "По месяцам", "By month";
    LatestComplaints => "Последние жалобы", "Latest complaints";
    CustomerNo => "клиент №", "customer #";
    Referrer => "пригласил", "referrer";
    Referee => "приглашён", "referee";
    Linked => "когда", "linked";
    Signup => "награда", "signup";
    ReferrerPoints => "баллы пригласившему", "referrer pts";
    RefereePoints => "баллы приглашённому", "referee pts";
    Cashback => "кешбэк", "cashback";
    Revenue => "выручка", "revenue";
    ReferralsTotal => "{referees}, награждено: {rewarded}, начислено: {points}, выручка: {revenue}",
        "{referees}, {rewarded} rewarded, {points} points kept, {revenue} revenue";
    CustomersNamed => "{n} поимённо", "{n} named";
    Segment => "сегмент «{segment}»", "segment «{segment}»";
    Campaign => "кампания", "campaign";
    Channel => "канал", "channel";
    Offer => "предложение", "offer";
    Notified => "уведомлено", "notified";
    Came => "пришли", "came";
    Budget => "бюджет", "budget";
    CostPerCustomer => "стоимость клиента", "cost per customer";
    PointsGranted => "баллов выдано", "points granted";
    PointsRedeemed => "баллов списано", "points redeemed";
    DashboardWritten => "Панель владельца записана: {file} ({kib} КиБ)", "The owner's dashboard is written: {file} ({kib} KiB)";
    // The demo's story.
    DemoTitle => "Демо Pitstop — «{shop}», {dir} — {date}", "Pitstop demo — «{shop}», {dir} — {date}";
    DemoMigration => "Переход со старой системы (режим импорта)", "Migration from the old system (import mode)";
    DemoCustomers => "клиенты", "customers";
    DemoCustomersText => "{all} ({private} — частные, таксопарк: {drivers}), {cars}; без приветственного бонуса при импорте",
        "{all} ({private} private, a taxi firm with {drivers}), {cars}; no welcome bonus on import";
    DemoHistory => "история", "history";
    DemoHistoryText => "{from} – {to}: {orders} через visit.import за {seconds} с ({rate} визитов/с)",
        "{from} – {to}: {orders} through visit.import in {seconds} s ({rate} visits/s)";
    DemoOpening => "начальные остатки", "opening balances";
    DemoOpeningText => "{customers}, {points} датированными партиями", "{customers}, {points} as dated lots";
    DemoRecommendations => "рекомендации", "recommendations";
    DemoRecommendationsText => "{recommendations} по заказам последних {days} (выполнены позже и закрыты: {closed})",
        "{recommendations} on the last {days}' orders ({closed} done later and closed)";
    DemoTyres => "хранение шин", "tyre storage";
    DemoTyresText => "принято: {in}, выдано: {out}, на стеллажах: {racks}", "{in} checked in, {out} handed back, {racks} on the racks";
    DemoCalls => "звонки о качестве", "quality calls";
    DemoCallsText => "{answers} за последние {days}, из них жалоб: {complaints}",
        "{answers} in the last {days}, {complaints} of them complaints";
    DemoPlugins => "плагины", "plugins";
    DemoNoPlugins => "нет: модули не собраны (`make plugins`)", "none: no modules built (`make plugins`)";
    DemoLoadedIn => "загружено за", "loaded in";
    DemoLoadedText => "{seconds} с, одна синхронизация в конце", "{seconds} s, one sync at the end";
    DemoTill => "На кассе, 09:00 — что видит кассир для клиента {customer}", "At the till, 09:00 — what the cashier sees for {customer}";
    DemoLine => "позиция", "line";
    DemoDiscount => "скидка", "discount";
    DemoToPay => "к оплате", "to pay";
    DemoEarns => "начислится", "earns";
    DemoTotals => "итого {net}, скидки {discount}, баллами {points} (доступно {available}), к оплате {money}, начислится {accrual}",
        "total {net}, discounts {discount}, points pay {points} (of {available} available), to pay {money}, earns {accrual}";
    DemoCommitted => "проведено как визит {visit} (заказ {order}), баланс после: {balance}, уровень: {tier}",
        "committed as visit {visit} (order {order}), balance after {balance}, tier {tier}";
    DemoAdvised => "за день касса показала {recommendations} на {receipts}, например:",
        "over the day the till showed {recommendations} on {receipts}, e.g.:";
    DemoCard => "Карточка клиента (pitstop customer)", "The customer's card (pitstop customer)";
    DemoDay => "День: {receipts}, {net}, оплачено баллами: {points}", "The day: {receipts}, {net}, {points} points paid";
    DemoActivity => "Для владельца: активность по месяцам (report.activity)", "For the owner: activity by month (report.activity)";
    DemoLiability => "Обязательства по баллам (report.points)", "Points liability (report.points)";
    DemoContact => "С кем связаться сегодня (pitstop reminders): {reminders}", "Who to contact today (pitstop reminders): {reminders}";
    DemoCount => "сколько", "count";
    DemoExample => "например", "for example";
    DemoCampaign => "SMS-кампания (pitstop report {dir} campaign {id})", "The SMS campaign (pitstop report {dir} campaign {id})";
    DemoComplaints => "Жалобы за 90 дней (pitstop report complaints)", "Complaints, last 90 days (pitstop report complaints)";
    DemoReferrals => "Рекомендации друзьям (pitstop report referrals)", "Referrals (pitstop report referrals)";
    DemoTierMix => "Клиенты по уровням (частные), по импортированной истории", "Tier mix (private customers), from the imported history";
    DemoTop => "5 лучших клиентов по сумме покупок", "Top 5 customers by spend";
    DemoSpend => "сумма покупок", "spend";
    DemoStore => "Хранилище: {records}, {mib} МиБ на диске, store.check: {check}; всего {seconds} с. Попробуйте: pitstop customer {dir} {phone}",
        "Store: {records}, {mib} MiB on disk, store.check: {check}; {seconds} s in all. Try: pitstop customer {dir} {phone}";
    DemoDashboard => "Панель владельца за всю историю (pitstop report … dashboard --html): {file}, {kib} КиБ, {seconds} с — откройте в браузере",
        "The owner's dashboard of the whole history (pitstop report … dashboard --html): {file}, {kib} KiB, {seconds} s — open it in a browser";
    DemoSound => "всё в порядке", "sound";
    // pitstop import: the summary of one file.
    ImportKind => "что загружено", "kind";
    ImportEncoding => "кодировка", "encoding";
    ImportSeparator => "разделитель", "separator";
    ImportRows => "строк в файле", "rows";
    ImportAdded => "добавлено", "added";
    ImportUpdated => "исправлено", "updated";
    ImportUnchanged => "без изменений", "unchanged";
    ImportRejected => "отклонено", "rejected";
    ImportErrorsFile => "файл ошибок", "errors file";
    ImportVisits => "визитов", "visits";
    ImportRejectedVisits => "визитов отклонено", "rejected visits";
    ImportRowUpdated => "строка {row} ({id}): исправлены поля {fields}", "row {row} ({id}): {fields} updated";
    ImportRowsRejected => "Отклонено строк: {count}; причины в {file}", "{count} row(s) rejected; see {file}";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ru() -> Locale {
        Locale::new("ru-RU", "RUB")
    }

    fn en() -> Locale {
        Locale::new("en", "RUB")
    }

    #[test]
    fn russian_plural_forms() {
        let l = ru();
        for (n, text) in [
            (0, "0 рефералов"),
            (1, "1 реферал"),
            (2, "2 реферала"),
            (4, "4 реферала"),
            (5, "5 рефералов"),
            (11, "11 рефералов"),
            (12, "12 рефералов"),
            (14, "14 рефералов"),
            (21, "21 реферал"),
            (22, "22 реферала"),
            (101, "101 реферал"),
            (111, "111 рефералов"),
        ] {
            assert_eq!(l.count(n, Noun::Referee), text);
        }
        assert_eq!(l.count(12_345, Noun::Point), "12\u{a0}345 баллов");
        assert_eq!(l.count_text("1.5", Noun::Point), "1,5 балла");
        assert_eq!(l.count_text("21", Noun::Point), "21 балл");
    }

    #[test]
    fn tiers_are_named_not_coded() {
        let program = Program::from_json(Program::example()).unwrap();
        let l = Locale::of_program(&program);
        assert_eq!(l.lang(), Lang::Russian);
        assert_eq!(l.tier(&Value::from("silver")), "Серебро");
        assert_eq!(l.tier(&Value::Null), "");
        assert_eq!(l.tier(&Value::from("gone")), "gone");
    }

    #[test]
    fn english_plural_forms() {
        let l = en();
        assert_eq!(l.count(1, Noun::Referee), "1 referee");
        assert_eq!(l.count(2, Noun::Referee), "2 referees");
        assert_eq!(l.count(0, Noun::Referee), "0 referees");
        assert_eq!(l.count(21, Noun::Referee), "21 referees");
    }

    #[test]
    fn russian_numbers_money_and_dates() {
        let l = ru();
        assert_eq!(l.number("1234567.50"), "1\u{a0}234\u{a0}567,50");
        assert_eq!(l.number("1234"), "1234");
        assert_eq!(l.number("12345"), "12\u{a0}345");
        assert_eq!(l.number("-45000"), "−45\u{a0}000");
        assert_eq!(l.number("0.5"), "0,5");
        assert_eq!(l.money(&Value::from("10450.00")), "10\u{a0}450,00\u{a0}₽");
        assert_eq!(l.money(&Value::Null), "");
        // Not quantities: phones, codes with leading zeros, ids with letters.
        assert_eq!(l.number("+79165551234"), "+79165551234");
        assert_eq!(l.number("0042"), "0042");
        assert_eq!(l.number("ЗН-1"), "ЗН-1");
        assert_eq!(l.number("1e5"), "1e5");
        let day = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
        assert_eq!(l.date(day), "01.12.2025");
        assert_eq!(l.date_of(&Value::from("2025-12-01")), "01.12.2025");
        assert_eq!(
            l.date_of(&Value::from("2025-12-01T09:00:00Z")),
            "01.12.2025"
        );
        assert_eq!(l.date_of(&Value::from("2025-12")), "12.2025");
        assert_eq!(l.date_of(&Value::from("скоро")), "скоро");
    }

    #[test]
    fn english_fallback_numbers_and_dates() {
        let l = Locale::new("de-DE", "EUR");
        assert_eq!(l.lang(), Lang::English);
        assert_eq!(l.number("1234567.50"), "1,234,567.50");
        assert_eq!(l.money(&Value::from("5")), "5\u{a0}EUR");
        let day = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
        assert_eq!(l.date(day), "2025-12-01");
        assert_eq!(l.t(Msg::Tier), "tier");
    }

    #[test]
    fn every_label_has_both_languages_and_the_same_placeholders() {
        let placeholders = |text: &str| -> Vec<String> {
            let mut names: Vec<String> = text
                .split('{')
                .skip(1)
                .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
                .collect();
            names.sort();
            names
        };
        for msg in Msg::ALL {
            let (ru_text, en_text) = msg.texts();
            assert!(!ru_text.is_empty() && !en_text.is_empty(), "{msg:?}");
            assert_eq!(placeholders(ru_text), placeholders(en_text), "{msg:?}");
        }
        for (key, ru_text, en_text) in FIELDS {
            assert!(!ru_text.is_empty() && !en_text.is_empty(), "{key}");
        }
    }
}
