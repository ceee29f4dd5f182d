//! `make demo`: a season in the life of a Moscow service station, then the owner's summary.
//!
//! ```text
//! cargo run --release -p pitstop-core --example demo -- ./pitstop-demo
//! ```
//!
//! Creates a store in the given folder (an existing demo store there is removed first),
//! sets the example programme, registers a few hundred customers (ФИО, phones, birthdays,
//! consents, cards) with cars common in Russia (valid VINs, Russian plates), a taxi fleet
//! with its drivers, and posts nine months of back-dated visits — oil changes, ТО, seasonal
//! tyre changes, brake pads, small purchases — some paid partly with points, a few
//! refunded. The daily job runs for every day. History is loaded in import mode; "today"
//! runs in the default durable mode, as a till would. Everything is deterministic: the
//! same seed gives the same store and the same summary.

use pitstop_core::{DurabilityOption, Engine, EngineOptions, Program};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{Datelike, Duration, NaiveDate, TimeZone};

/// First day of the history, the demo's "today" (history ends the day before).
const HISTORY_START: (i32, u32, u32) = (2025, 3, 1);
const TODAY: (i32, u32, u32) = (2025, 12, 1);
const PRIVATE_CUSTOMERS: usize = 320;
const TAXI_DRIVERS: usize = 8;
const SEED: u64 = 0x5049_5453_544f_5021;

// ------------------------------------------------------------------ a small seeded RNG

/// SplitMix64: tiny, fast, and the same sequence on every platform.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        (((self.next_u64() >> 32) * n) >> 32).min(n.saturating_sub(1))
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

// ------------------------------------------------------------------ people

const SURNAMES: &[&str] = &[
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
    "Григорьев",
    "Романов",
    "Воробьёв",
    "Сергеев",
    "Кузьмин",
    "Фролов",
    "Александров",
    "Дмитриев",
    "Королёв",
    "Гусев",
    "Киселёв",
    "Ильин",
    "Максимов",
    "Поляков",
    "Сорокин",
    "Виноградов",
    "Ковалёв",
    "Белов",
    "Медведев",
    "Антонов",
    "Тарасов",
    "Жуков",
    "Баранов",
    "Филиппов",
    "Комаров",
    "Давыдов",
    "Беляев",
    "Герасимов",
    "Богданов",
    "Осипов",
    "Сидоров",
    "Матвеев",
    "Титов",
    "Марков",
    "Миронов",
    "Крылов",
    "Куликов",
    "Карпов",
    "Власов",
    "Мельников",
    "Денисов",
    "Покровский",
    "Никольский",
    "Вишневский",
    "Гаврилов",
    "Тихонов",
];

const MALE_NAMES: &[&str] = &[
    "Александр",
    "Дмитрий",
    "Сергей",
    "Андрей",
    "Алексей",
    "Максим",
    "Иван",
    "Михаил",
    "Евгений",
    "Николай",
    "Владимир",
    "Павел",
    "Роман",
    "Артём",
    "Игорь",
    "Олег",
    "Кирилл",
    "Денис",
    "Виктор",
    "Юрий",
];

const FEMALE_NAMES: &[&str] = &[
    "Елена",
    "Ольга",
    "Наталья",
    "Татьяна",
    "Ирина",
    "Анна",
    "Светлана",
    "Мария",
    "Екатерина",
    "Юлия",
    "Марина",
    "Анастасия",
];

/// (male, female) patronymics.
const PATRONYMICS: &[(&str, &str)] = &[
    ("Александрович", "Александровна"),
    ("Дмитриевич", "Дмитриевна"),
    ("Сергеевич", "Сергеевна"),
    ("Андреевич", "Андреевна"),
    ("Алексеевич", "Алексеевна"),
    ("Михайлович", "Михайловна"),
    ("Иванович", "Ивановна"),
    ("Николаевич", "Николаевна"),
    ("Владимирович", "Владимировна"),
    ("Викторович", "Викторовна"),
    ("Юрьевич", "Юрьевна"),
    ("Петрович", "Петровна"),
    ("Олегович", "Олеговна"),
    ("Игоревич", "Игоревна"),
    ("Евгеньевич", "Евгеньевна"),
    ("Анатольевич", "Анатольевна"),
    ("Васильевич", "Васильевна"),
    ("Павлович", "Павловна"),
];

const SOURCES: &[&str] = &[
    "Яндекс Карты",
    "Рекомендация друга",
    "2ГИС",
    "Проезжал мимо",
    "Авито",
    "Сайт",
    "ВКонтакте",
    "Рекомендация друга",
    "Яндекс Карты",
];

const MAIL_DOMAINS: &[&str] = &["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "list.ru"];

fn feminine(surname: &str) -> String {
    match surname.strip_suffix("ий") {
        Some(stem) => format!("{stem}ая"),
        None => format!("{surname}а"),
    }
}

fn translit(text: &str) -> String {
    let mut out = String::new();
    for c in text.to_lowercase().chars() {
        let s = match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' => "e",
            'ё' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' => "i",
            'й' => "y",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "sch",
            'ы' => "y",
            'э' => "e",
            'ю' => "yu",
            'я' => "ya",
            'ь' | 'ъ' => "",
            other => {
                out.push(other);
                continue;
            }
        };
        out.push_str(s);
    }
    out
}

// ------------------------------------------------------------------ cars

struct Model {
    make: &'static str,
    model: &'static str,
    /// World manufacturer identifier of the plant that builds it for Russia.
    wmi: &'static str,
    weight: u32,
    years: (i32, i32),
    tyre: u32,
}

const MODELS: &[Model] = &[
    Model {
        make: "Lada",
        model: "Vesta",
        wmi: "XTA",
        weight: 16,
        years: (2016, 2025),
        tyre: 15,
    },
    Model {
        make: "Lada",
        model: "Granta",
        wmi: "XTA",
        weight: 14,
        years: (2012, 2025),
        tyre: 14,
    },
    Model {
        make: "Lada",
        model: "Largus",
        wmi: "XTA",
        weight: 4,
        years: (2013, 2024),
        tyre: 15,
    },
    Model {
        make: "Kia",
        model: "Rio",
        wmi: "Z94",
        weight: 11,
        years: (2012, 2022),
        tyre: 15,
    },
    Model {
        make: "Hyundai",
        model: "Solaris",
        wmi: "Z94",
        weight: 11,
        years: (2011, 2022),
        tyre: 15,
    },
    Model {
        make: "Hyundai",
        model: "Creta",
        wmi: "Z94",
        weight: 5,
        years: (2016, 2022),
        tyre: 16,
    },
    Model {
        make: "Volkswagen",
        model: "Polo",
        wmi: "XW8",
        weight: 7,
        years: (2011, 2022),
        tyre: 15,
    },
    Model {
        make: "Skoda",
        model: "Octavia",
        wmi: "XW8",
        weight: 6,
        years: (2010, 2022),
        tyre: 16,
    },
    Model {
        make: "Skoda",
        model: "Rapid",
        wmi: "XW8",
        weight: 4,
        years: (2014, 2022),
        tyre: 15,
    },
    Model {
        make: "Renault",
        model: "Logan",
        wmi: "X7L",
        weight: 6,
        years: (2010, 2022),
        tyre: 15,
    },
    Model {
        make: "Renault",
        model: "Duster",
        wmi: "X7L",
        weight: 5,
        years: (2012, 2022),
        tyre: 16,
    },
    Model {
        make: "Toyota",
        model: "Camry",
        wmi: "XW7",
        weight: 5,
        years: (2012, 2022),
        tyre: 17,
    },
    Model {
        make: "Toyota",
        model: "RAV4",
        wmi: "XW7",
        weight: 3,
        years: (2014, 2022),
        tyre: 17,
    },
    Model {
        make: "Kia",
        model: "Sportage",
        wmi: "XWE",
        weight: 4,
        years: (2012, 2022),
        tyre: 17,
    },
    Model {
        make: "Haval",
        model: "Jolion",
        wmi: "LGW",
        weight: 4,
        years: (2021, 2025),
        tyre: 17,
    },
    Model {
        make: "Chery",
        model: "Tiggo 7 Pro",
        wmi: "LVV",
        weight: 3,
        years: (2021, 2025),
        tyre: 18,
    },
    Model {
        make: "Geely",
        model: "Coolray",
        wmi: "Y4K",
        weight: 3,
        years: (2020, 2025),
        tyre: 18,
    },
];

/// Characters a VIN may use (no I, O, Q).
const VIN_CHARS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
/// Model-year codes from 2010.
const YEAR_CODES: &[u8] = b"ABCDEFGHJKLMNPRSTVWXY";

/// ISO 3779 check digit (position 9).
fn vin_check_digit(vin: &[u8]) -> u8 {
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let value = |c: u8| -> u32 {
        match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A' | b'J' => 1,
            b'B' | b'K' | b'S' => 2,
            b'C' | b'L' | b'T' => 3,
            b'D' | b'M' | b'U' => 4,
            b'E' | b'N' | b'V' => 5,
            b'F' | b'W' => 6,
            b'G' | b'P' | b'X' => 7,
            b'H' | b'Y' => 8,
            b'R' | b'Z' => 9,
            _ => 0,
        }
    };
    let sum: u32 = vin.iter().zip(WEIGHTS).map(|(c, w)| value(*c) * w).sum();
    match sum % 11 {
        10 => b'X',
        digit => b'0' + digit as u8,
    }
}

fn make_vin(rng: &mut Rng, model: &Model, year: i32) -> String {
    let mut vin: Vec<u8> = model.wmi.bytes().collect();
    for _ in 0..5 {
        vin.push(*rng.pick(VIN_CHARS));
    }
    vin.push(b'0'); // check digit, computed below
    vin.push(YEAR_CODES[((year - 2010).clamp(0, 20)) as usize]);
    vin.push(*rng.pick(b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789"));
    for _ in 0..6 {
        vin.push(b'0' + rng.below(10) as u8);
    }
    vin[8] = vin_check_digit(&vin);
    String::from_utf8(vin).expect("ASCII")
}

/// Letters used on Russian plates (those that look Latin).
const PLATE_LETTERS: &[char] = &['А', 'В', 'Е', 'К', 'М', 'Н', 'О', 'Р', 'С', 'Т', 'У', 'Х'];
const REGIONS: &[&str] = &[
    "77", "97", "99", "177", "197", "199", "777", "799", "50", "90", "150", "190", "750",
];

fn make_plate(rng: &mut Rng) -> String {
    let l = |rng: &mut Rng| *rng.pick(PLATE_LETTERS);
    format!(
        "{}{:03}{}{}{}",
        l(rng),
        rng.range(1, 999),
        l(rng),
        l(rng),
        rng.pick(REGIONS)
    )
}

// ------------------------------------------------------------------ the shop's price list

fn line(sku: &str, name: &str, kind: &str, category: &str, qty: &str, price: i64) -> Value {
    json!({ "sku": sku, "name": name, "kind": kind, "category": category,
            "qty": qty, "unit_price": format!("{price}.00") })
}

fn oil_change(rng: &mut Rng, lines: &mut Vec<Value>) {
    let (sku, name, price) = *rng.pick(&[
        ("OIL-5W30-SHELL", "Масло Shell Helix HX8 5W-30, л", 980),
        ("OIL-5W40-LUK", "Масло Лукойл Генезис 5W-40, л", 720),
        ("OIL-5W30-GPN", "Масло G-Energy 5W-30, л", 810),
        ("OIL-0W20-TOY", "Масло Toyota 0W-20, л", 1250),
    ]);
    let litres = *rng.pick(&["3.5", "4", "4.2", "4.5"]);
    lines.push(line(
        "LAB-OIL",
        "Замена моторного масла и фильтра",
        "labor",
        "maintenance",
        "1",
        1200,
    ));
    lines.push(line(sku, name, "goods", "oil", litres, price));
    lines.push(line(
        "FLT-OIL",
        "Фильтр масляный",
        "part",
        "filters",
        "1",
        rng.range(55, 95) * 10,
    ));
}

fn big_service(rng: &mut Rng, lines: &mut Vec<Value>) {
    lines.push(line(
        "LAB-TO2",
        "ТО-2: регламентные работы",
        "labor",
        "maintenance",
        "1",
        4800,
    ));
    oil_change(rng, lines);
    lines.push(line(
        "FLT-AIR",
        "Фильтр воздушный",
        "part",
        "filters",
        "1",
        rng.range(60, 110) * 10,
    ));
    lines.push(line(
        "FLT-CABIN",
        "Фильтр салонный угольный",
        "part",
        "filters",
        "1",
        rng.range(70, 120) * 10,
    ));
    lines.push(line(
        "PLUG-NGK",
        "Свеча зажигания NGK",
        "part",
        "ignition",
        "4",
        rng.range(38, 65) * 10,
    ));
    if rng.chance(0.5) {
        lines.push(line(
            "BF-DOT4",
            "Замена тормозной жидкости DOT-4",
            "labor",
            "brakes",
            "1",
            1500,
        ));
        lines.push(line(
            "FLD-DOT4",
            "Тормозная жидкость DOT-4, 1 л",
            "goods",
            "fluids",
            "1",
            640,
        ));
    }
}

fn tyre_change(rng: &mut Rng, tyre: u32, lines: &mut Vec<Value>, winter: bool) {
    let price = match tyre {
        14 => 2200,
        15 => 2400,
        16 => 2800,
        17 => 3300,
        _ => 3900,
    };
    let season = if winter {
        "зимнюю"
    } else {
        "летнюю"
    };
    lines.push(line(
        &format!("LAB-TYRE-R{tyre}"),
        &format!("Сезонная смена шин на {season} резину R{tyre} (4 колеса, балансировка)"),
        "labor",
        "tyres",
        "1",
        price,
    ));
    if rng.chance(0.35) {
        lines.push(line(
            "TYRE-STORE",
            "Сезонное хранение шин",
            "labor",
            "tyres",
            "1",
            4000,
        ));
    }
    if rng.chance(0.15) {
        lines.push(line(
            "VALVE",
            "Вентиль бескамерный",
            "part",
            "tyres",
            "4",
            90,
        ));
    }
    if winter && rng.chance(0.4) {
        lines.push(line(
            "WW-30",
            "Незамерзающая жидкость −30 °C, 4 л",
            "goods",
            "fluids",
            "2",
            420,
        ));
    }
}

fn brake_pads(rng: &mut Rng, lines: &mut Vec<Value>) {
    lines.push(line(
        "LAB-BRAKE-F",
        "Замена передних тормозных колодок",
        "labor",
        "brakes",
        "1",
        1600,
    ));
    let (sku, name, price) = *rng.pick(&[
        ("BP-TRW", "Колодки тормозные передние TRW", 3650),
        ("BP-BREMBO", "Колодки тормозные передние Brembo", 4900),
        (
            "BP-ALLIED",
            "Колодки тормозные передние Allied Nippon",
            2700,
        ),
    ]);
    lines.push(line(sku, name, "part", "brakes", "1", price));
    if rng.chance(0.25) {
        lines.push(line(
            "LAB-DISC-F",
            "Замена передних тормозных дисков",
            "labor",
            "brakes",
            "1",
            2400,
        ));
        lines.push(line(
            "BD-FRONT",
            "Диск тормозной передний",
            "part",
            "brakes",
            "2",
            rng.range(280, 520) * 10,
        ));
    }
}

fn small_job(rng: &mut Rng, lines: &mut Vec<Value>) {
    match rng.below(5) {
        0 => {
            lines.push(line(
                "LAB-DIAG",
                "Диагностика ходовой части",
                "labor",
                "diagnostics",
                "1",
                1200,
            ));
        }
        1 => {
            lines.push(line(
                "WIPER",
                "Щётка стеклоочистителя бескаркасная",
                "goods",
                "accessories",
                "2",
                rng.range(80, 140) * 10,
            ));
        }
        2 => {
            lines.push(line(
                "LAB-AC",
                "Заправка кондиционера",
                "labor",
                "climate",
                "1",
                2900,
            ));
        }
        3 => {
            lines.push(line(
                "LAB-BULB",
                "Замена лампы ближнего света",
                "labor",
                "electrics",
                "1",
                500,
            ));
            lines.push(line(
                "BULB-H7",
                "Лампа H7 Philips",
                "goods",
                "electrics",
                "2",
                690,
            ));
        }
        _ => {
            lines.push(line(
                "LAB-ALIGN",
                "Развал-схождение",
                "labor",
                "suspension",
                "1",
                2500,
            ));
        }
    }
}

// ------------------------------------------------------------------ the simulated base

struct Car {
    id: u64,
    tyre: u32,
    km: f64,
    km_per_day: f64,
    oil_every: f64,
    last_oil: f64,
    last_big: f64,
    last_brakes: f64,
    brakes_every: f64,
    /// Which season's tyres are on: true = winter.
    winter_on: bool,
}

struct Client {
    id: u64,
    name: String,
    registered: NaiveDate,
    birthday: Option<NaiveDate>,
    /// Comes to this shop for seasonal tyre changes.
    tyres_here: bool,
    /// Pays with points when it can.
    redeems: bool,
    car: Car,
    taxi: bool,
}

fn ok(engine: &Engine, op: &str, args: Value) -> Value {
    match engine.execute(op, args.clone()) {
        Ok(value) => value,
        Err(err) => panic!("{op} failed: {err:?}\nargs: {args}"),
    }
}

fn date(ymd: (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(ymd.0, ymd.1, ymd.2).expect("valid date")
}

/// A Moscow wall-clock time on `day` as an RFC 3339 instant.
fn moscow(day: NaiveDate, hour: u32, minute: u32) -> String {
    let naive = day.and_hms_opt(hour, minute, 0).expect("valid time");
    chrono_tz::Europe::Moscow
        .from_local_datetime(&naive)
        .single()
        .expect("Moscow has no DST")
        .to_rfc3339()
}

fn dec(value: &Value) -> f64 {
    match value {
        Value::String(s) => s.parse().unwrap_or(0.0),
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        _ => 0.0,
    }
}

fn rub(x: f64) -> String {
    let whole = x.round() as i64;
    let text = whole.abs().to_string();
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i > 0 && (text.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    if whole < 0 { format!("−{out}") } else { out }
}

/// Remove a previous demo store at `path`, refusing to delete anything else.
fn remove_previous(path: &Path) {
    let mut side = path.as_os_str().to_os_string();
    side.push(".pitstop-creating");
    let _ = std::fs::remove_dir_all(PathBuf::from(side));
    if !path.exists() {
        return;
    }
    let is_store = path.join("db").exists() && path.join("conf").exists();
    let is_empty = std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_none());
    if !(is_store || is_empty) {
        eprintln!(
            "{} exists and is not a Pitstop store; refusing to remove it",
            path.display()
        );
        std::process::exit(2);
    }
    std::fs::remove_dir_all(path).expect("remove the previous demo store");
}

#[derive(Default)]
struct Month {
    visits: u32,
    net: f64,
    points: f64,
}

#[derive(Default)]
struct Totals {
    visits: u64,
    net: f64,
    discount: f64,
    points_paid: f64,
    refunds: u64,
    refunded_money: f64,
    months: BTreeMap<(i32, u32), Month>,
}

impl Totals {
    fn record(&mut self, day: NaiveDate, receipt: &Value) {
        let totals = &receipt["totals"];
        self.visits += 1;
        self.net += dec(&totals["net"]);
        self.discount += dec(&totals["discount"]);
        self.points_paid += dec(&totals["points_money"]);
        let month = self.months.entry((day.year(), day.month())).or_default();
        month.visits += 1;
        month.net += dec(&totals["net"]);
        month.points += dec(&totals["points"]);
    }
}

struct Shop {
    rng: Rng,
    orders: u64,
    totals: Totals,
    /// Refunds to post: day → order ids (whole refund when no line is given).
    refunds: BTreeMap<NaiveDate, Vec<(String, Option<u32>)>>,
}

const ADVISORS: &[&str] = &["Кравцов Д.", "Садыков Р.", "Белоусова А.", "Шевчук И."];

impl Shop {
    /// Post one visit; returns the receipt.
    fn visit(
        &mut self,
        engine: &Engine,
        client: &mut Client,
        day: NaiveDate,
        lines: Vec<Value>,
    ) -> Value {
        self.orders += 1;
        let order_id = format!("ЗН-{:06}", self.orders);
        client.car.km += self.rng.range(0, 40) as f64;
        let mut args = json!({
            "customer": { "id": client.id },
            "vehicle": { "id": client.car.id },
            "mileage": client.car.km.round() as u32,
            "lines": lines,
            "order_id": order_id,
            "branch": if client.taxi || self.rng.chance(0.7) { "Варшавское ш., 118" } else { "Химки, Ленинградская ул., 27" },
            "advisor": *self.rng.pick(ADVISORS),
            "at": moscow(day, self.rng.range(9, 19) as u32, self.rng.range(0, 59) as u32),
        });
        if client.redeems && self.rng.chance(0.6) {
            args["redeem"] = json!("max");
        }
        let receipt = ok(engine, "checkout.commit", args);
        self.totals.record(day, &receipt);
        // A few visits are refunded a few days later: a returned part, or the whole order.
        if self.rng.chance(0.02) {
            let when = day + Duration::days(self.rng.range(1, 4));
            let lines = receipt["lines"].as_array().map_or(0, Vec::len) as u32;
            let which = if lines > 1 && self.rng.chance(0.7) {
                Some(lines - 1)
            } else {
                None
            };
            self.refunds
                .entry(when)
                .or_default()
                .push((order_id, which));
        }
        receipt
    }

    fn post_refunds(&mut self, engine: &Engine, day: NaiveDate) {
        for (order_id, line) in self.refunds.remove(&day).unwrap_or_default() {
            let mut args = json!({
                "order_id": order_id,
                "reason": if line.is_some() { "Возврат неиспользованного товара" } else { "Отказ от работ по претензии" },
                "at": moscow(day, 12, 30),
            });
            if let Some(line) = line {
                args["lines"] = json!([{ "line": line }]);
            }
            let result = ok(engine, "checkout.refund", args);
            self.totals.refunds += 1;
            self.totals.refunded_money += dec(&result["refund"]["money"]);
        }
    }

    /// What a client needs today, if anything, as basket lines.
    fn needs(&mut self, client: &mut Client, day: NaiveDate) -> Option<Vec<Value>> {
        let car = &mut client.car;
        car.km += car.km_per_day * (0.6 + 0.8 * (self.rng.below(1000) as f64 / 1000.0));
        let mut lines = Vec::new();
        // Seasonal tyres: summer in late March–April, winter from mid-October.
        let (month, dom) = (day.month(), day.day());
        let summer_season = (month == 3 && dom >= 25) || month == 4;
        let winter_season = (month == 10 && dom >= 10) || month == 11;
        if client.tyres_here
            && ((summer_season && car.winter_on) || (winter_season && !car.winter_on))
            && self.rng.chance(if month == 4 || month == 11 {
                0.08
            } else {
                0.04
            })
        {
            let winter = winter_season;
            tyre_change(&mut self.rng, car.tyre, &mut lines, winter);
            car.winter_on = winter;
        }
        let since_oil = car.km - car.last_oil;
        if (since_oil >= car.oil_every && self.rng.chance(0.12))
            || (!lines.is_empty() && since_oil >= 0.85 * car.oil_every)
        {
            if car.km - car.last_big >= 30_000.0 {
                big_service(&mut self.rng, &mut lines);
                car.last_big = car.km;
            } else {
                oil_change(&mut self.rng, &mut lines);
            }
            car.last_oil = car.km;
        }
        if car.km - car.last_brakes >= car.brakes_every
            && (self.rng.chance(0.1) || !lines.is_empty())
        {
            brake_pads(&mut self.rng, &mut lines);
            car.last_brakes = car.km;
        }
        if lines.is_empty() && self.rng.chance(if client.taxi { 0.01 } else { 0.004 }) {
            small_job(&mut self.rng, &mut lines);
        }
        (!lines.is_empty()).then_some(lines)
    }
}

/// A customer as the host knows them before registering.
struct Profile {
    n: usize,
    full_name: String,
    first: &'static str,
    last: String,
    male: bool,
    phone: String,
    registered: NaiveDate,
    birthday: NaiveDate,
}

fn make_profile(
    rng: &mut Rng,
    n: usize,
    phones: &mut HashSet<String>,
    start: NaiveDate,
    end: NaiveDate,
) -> Profile {
    let male = rng.chance(0.78);
    let surname = *rng.pick(SURNAMES);
    let (first, patronymic, last) = if male {
        (
            *rng.pick(MALE_NAMES),
            rng.pick(PATRONYMICS).0,
            surname.to_string(),
        )
    } else {
        (
            *rng.pick(FEMALE_NAMES),
            rng.pick(PATRONYMICS).1,
            feminine(surname),
        )
    };
    let phone = loop {
        let phone = format!(
            "+79{:02}{:07}",
            rng.pick(&[3, 5, 6, 9, 15, 16, 25, 26, 36, 52, 60, 63, 67, 77, 85, 99]),
            rng.below(10_000_000)
        );
        if phones.insert(phone.clone()) {
            break phone;
        }
    };
    // Most of the base is older than the history; the rest arrives during it.
    let registered = if rng.chance(0.55) {
        start - Duration::days(rng.range(20, 700))
    } else {
        start + Duration::days(rng.range(0, (end - start).num_days() - 1))
    };
    let birthday = NaiveDate::from_ymd_opt(
        rng.range(1958, 2004) as i32,
        rng.range(1, 12) as u32,
        rng.range(1, 28) as u32,
    )
    .expect("valid birthday");
    Profile {
        n,
        full_name: format!("{last} {first} {patronymic}"),
        first,
        last,
        male,
        phone,
        registered,
        birthday,
    }
}

fn register_private(engine: &Engine, rng: &mut Rng, profile: Profile) -> Client {
    let email = rng.chance(0.45).then(|| {
        format!(
            "{}.{}{}@{}",
            translit(profile.first),
            translit(&profile.last),
            rng.range(1, 99),
            rng.pick(MAIL_DOMAINS)
        )
    });
    let mut args = json!({
        "full_name": profile.full_name,
        "phone": profile.phone,
        "birthday": profile.birthday.to_string(),
        "gender": if profile.male { "male" } else { "female" },
        "source": *rng.pick(SOURCES),
        "consents": {
            "sms": rng.chance(0.8),
            "call": rng.chance(0.35),
            "messenger": rng.chance(0.5),
        },
        "issue_card": rng.chance(0.7),
        "external_id": format!("1C-{:05}", 10_000 + profile.n),
        "at": moscow(profile.registered, rng.range(9, 19) as u32, rng.range(0, 59) as u32),
    });
    if let Some(email) = email {
        args["email"] = json!(email);
        args["consents"]["email"] = json!(rng.chance(0.6));
    }
    let reply = ok(engine, "customer.register", args);
    let id = reply["customer"]["id"].as_u64().expect("customer id");
    let car = add_car(engine, rng, id, profile.registered, false);
    Client {
        id,
        name: profile.full_name,
        registered: profile.registered,
        birthday: Some(profile.birthday),
        tyres_here: rng.chance(0.65),
        redeems: rng.chance(0.45),
        car,
        taxi: false,
    }
}

fn add_car(engine: &Engine, rng: &mut Rng, owner: u64, on: NaiveDate, taxi: bool) -> Car {
    let total: u32 = MODELS.iter().map(|m| m.weight).sum();
    let mut roll = rng.below(u64::from(total)) as u32;
    let model = MODELS
        .iter()
        .find(|m| {
            if roll < m.weight {
                true
            } else {
                roll -= m.weight;
                false
            }
        })
        .unwrap_or(&MODELS[0]);
    let model = if taxi { rng.pick(&MODELS[3..5]) } else { model };
    let year = rng.range(i64::from(model.years.0), i64::from(model.years.1)) as i32;
    let year = year.min(on.year());
    let age = f64::from((on.year() - year).max(0)) + 0.5;
    let km_per_day = if taxi {
        rng.range(220, 320) as f64
    } else {
        rng.range(25, 75) as f64
    };
    let km = (age * km_per_day * 365.0 * 0.8).round();
    let reply = ok(
        engine,
        "vehicle.add",
        json!({
            "customer": { "id": owner },
            "vin": make_vin(rng, model, year),
            "plate": make_plate(rng),
            "make": model.make,
            "model": model.model,
            "year": year,
            "usage": if taxi { "commercial" } else { "personal" },
            "mileage": km as u32,
            "at": moscow(on, 10, 0),
        }),
    );
    let oil_every = if taxi { 8_000.0 } else { 10_000.0 };
    Car {
        id: reply["id"].as_u64().expect("vehicle id"),
        tyre: model.tyre,
        km,
        km_per_day,
        oil_every,
        last_oil: km - rng.range(0, oil_every as i64) as f64,
        last_big: km - rng.range(0, 30_000) as f64,
        last_brakes: km - rng.range(0, 35_000) as f64,
        brakes_every: rng.range(30_000, 45_000) as f64,
        winter_on: true,
    }
}

fn main() {
    let path = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "./pitstop-demo".to_string()),
    );
    let started = Instant::now();
    remove_previous(&path);
    let start = date(HISTORY_START);
    let today = date(TODAY);
    let mut rng = Rng(SEED);

    // ---- History, in import mode: synced once at the end.
    let import = EngineOptions {
        durability: DurabilityOption::Import,
        ..EngineOptions::default()
    };
    let engine = Engine::open(&path, import).expect("create the demo store");
    ok(
        &engine,
        "program.set",
        json!({ "program": Program::example(), "at": moscow(start - Duration::days(720), 9, 0) }),
    );
    let mut phones = HashSet::new();
    let mut clients: Vec<Client> = Vec::new();
    let mut pending: Vec<Profile> = Vec::new();
    for n in 0..PRIVATE_CUSTOMERS {
        // Customers who joined before the history are registered at once, back-dated;
        // the others are registered on their day, below.
        let profile = make_profile(&mut rng, n, &mut phones, start, today);
        if profile.registered < start {
            clients.push(register_private(&engine, &mut rng, profile));
        } else {
            pending.push(profile);
        }
    }
    // A taxi firm on the corporate agreement, its cars, its drivers.
    let fleet_since = start - Duration::days(200);
    let company = ok(
        &engine,
        "customer.register",
        json!({
            "full_name": "ООО «Такси Южный»",
            "phone": "+74957771020",
            "email": "park@taxi-yuzhny.ru",
            "kind": "corporate",
            "agreement": "taxi",
            "source": "Договор",
            "external_id": "1C-K-0042",
            "at": moscow(fleet_since, 11, 0),
        }),
    )["customer"]["id"]
        .as_u64()
        .expect("company id");
    for d in 0..TAXI_DRIVERS {
        let driver_phone = format!("+7926{:07}", 4_400_000 + d * 1_317);
        let name = format!(
            "{} {} {}",
            rng.pick(SURNAMES),
            rng.pick(MALE_NAMES),
            rng.pick(PATRONYMICS).0
        );
        let id = ok(
            &engine,
            "customer.register",
            json!({
                "full_name": name,
                "phone": driver_phone,
                "company": { "id": company },
                "gender": "male",
                "consents": { "sms": true },
                "at": moscow(fleet_since, 11, 30),
            }),
        )["customer"]["id"]
            .as_u64()
            .expect("driver id");
        let car = add_car(&engine, &mut rng, company, fleet_since, true);
        clients.push(Client {
            id,
            name,
            registered: fleet_since,
            birthday: None,
            tyres_here: true,
            redeems: false,
            car,
            taxi: true,
        });
    }
    pending.sort_by_key(|p| (p.registered, p.n));
    let mut pending = pending.into_iter().peekable();

    let mut shop = Shop {
        rng: Rng(SEED ^ 0xD1CE),
        orders: 0,
        totals: Totals::default(),
        refunds: BTreeMap::new(),
    };
    let mut expired = 0.0;
    let mut birthday_bonuses = 0u64;
    let mut day = start;
    while day < today {
        // The nightly job first, as a cron at 00:05 would run it.
        let report = ok(&engine, "jobs.daily", json!({ "date": day.to_string() }));
        expired += dec(&report["points_expired"]);
        birthday_bonuses += report["birthday_bonuses"].as_u64().unwrap_or(0);
        while pending.peek().is_some_and(|p| p.registered <= day) {
            let profile = pending.next().expect("peeked");
            clients.push(register_private(&engine, &mut rng, profile));
        }
        for client in clients.iter_mut() {
            let first_day = client.registered == day;
            let lines = match shop.needs(client, day) {
                Some(lines) => Some(lines),
                // A new customer usually comes with something to do.
                None if first_day => {
                    let mut lines = Vec::new();
                    oil_change(&mut shop.rng, &mut lines);
                    client.car.last_oil = client.car.km;
                    Some(lines)
                }
                None => None,
            };
            if let Some(lines) = lines {
                shop.visit(&engine, client, day, lines);
            }
        }
        shop.post_refunds(&engine, day);
        day += Duration::days(1);
    }
    let history_visits = shop.totals.visits;
    engine.close().expect("sync the history");
    drop(engine);
    let loaded = started.elapsed();

    // ---- Today, durable: the way a till runs.
    let engine = Engine::open(&path, EngineOptions::default()).expect("reopen durable");
    let report = ok(&engine, "jobs.daily", json!({ "date": today.to_string() }));
    expired += dec(&report["points_expired"]);
    birthday_bonuses += report["birthday_bonuses"].as_u64().unwrap_or(0);
    shop.post_refunds(&engine, today);
    // The cashier's screen for the first customer of the day, before the visit.
    // Pick someone whose birthday is this week, so the screen shows it; else anyone.
    let birthday_soon = |c: &Client| {
        c.birthday.is_some_and(|b| {
            (0..5).any(|d| {
                let day = today + Duration::days(d);
                (b.month(), b.day()) == (day.month(), day.day())
            })
        })
    };
    let regular = clients
        .iter()
        .filter(|c| !c.taxi && c.registered < start)
        .find(|c| birthday_soon(c))
        .or_else(|| clients.iter().find(|c| !c.taxi))
        .map(|c| c.id)
        .expect("a regular customer");
    let mut today_visits = 0;
    let mut first_quote = None;
    for (i, client) in clients.iter_mut().enumerate() {
        if client.id != regular && (i % 61 != 7) {
            continue;
        }
        let mut lines = Vec::new();
        if client.id == regular {
            oil_change(&mut shop.rng, &mut lines);
            small_job(&mut shop.rng, &mut lines);
        } else if client.car.winter_on {
            small_job(&mut shop.rng, &mut lines);
        } else {
            tyre_change(&mut shop.rng, client.car.tyre, &mut lines, true);
            client.car.winter_on = true;
        }
        if client.id == regular {
            let quote = ok(
                &engine,
                "checkout.quote",
                json!({ "customer": { "id": client.id }, "vehicle": { "id": client.car.id },
                        "lines": lines, "redeem": "max", "at": moscow(today, 9, 5) }),
            );
            first_quote = Some((client.name.clone(), quote));
        }
        shop.visit(&engine, client, today, lines);
        today_visits += 1;
    }

    // ---- The owner's summary.
    let program = engine.program().expect("programme");
    let mut by_kind: BTreeMap<String, f64> = BTreeMap::new();
    let mut outstanding = 0.0;
    let mut available = 0.0;
    let mut pending_points = 0.0;
    let mut ledger_sum = 0.0;
    let mut tiers: BTreeMap<String, u32> = BTreeMap::new();
    let mut people: Vec<(f64, String, String, f64, u32)> = Vec::new();
    let mut vehicles = 0usize;
    let mut ids: Vec<u64> = clients.iter().map(|c| c.id).collect();
    ids.push(company);
    let mut with_visits = 0;
    let mut fleet_visits = 0u32;
    let mut fleet_spend = 0.0;
    let mut regulars = 0;
    for id in &ids {
        let view = ok(
            &engine,
            "customer.get",
            json!({ "customer": { "id": id }, "at": moscow(today, 21, 0) }),
        );
        let customer = &view["customer"];
        vehicles += view["vehicles"].as_array().map_or(0, Vec::len);
        let balance = &view["balance"];
        outstanding += dec(&balance["total"]);
        available += dec(&balance["available"]);
        pending_points += dec(&balance["pending"]);
        let visits = customer["visits"].as_u64().unwrap_or(0) as u32;
        if visits > 0 {
            with_visits += 1;
        }
        if visits >= 2 {
            regulars += 1;
        }
        if !customer["company"].is_null() {
            fleet_visits += visits;
            fleet_spend += dec(&customer["total_spend"]);
        } else if customer["kind"] == "private" {
            let tier = customer["tier"]
                .as_str()
                .and_then(|code| program.tier(code))
                .map_or("(none yet)".to_string(), |t| t.name.clone());
            *tiers.entry(tier.clone()).or_default() += 1;
            people.push((
                dec(&customer["total_spend"]),
                customer["full_name"].as_str().unwrap_or("").to_string(),
                tier,
                dec(&balance["available"]),
                visits,
            ));
        }
        // The ledger itself: every entry, page by page.
        let mut before: Option<u64> = None;
        loop {
            let mut args = json!({ "customer": { "id": id }, "limit": 500 });
            if let Some(b) = before {
                args["before"] = json!(b);
            }
            let page = ok(&engine, "points.statement", args);
            for entry in page["entries"].as_array().into_iter().flatten() {
                let amount = dec(&entry["amount"]);
                ledger_sum += amount;
                *by_kind
                    .entry(entry["kind"].as_str().unwrap_or("?").to_string())
                    .or_default() += amount;
            }
            match page["next_before"].as_u64() {
                Some(next) => before = Some(next),
                None => break,
            }
        }
    }
    let kind = |k: &str| by_kind.get(k).copied().unwrap_or(0.0);
    let issued = kind("accrual") + kind("welcome") + kind("birthday") + kind("bonus");
    let redeemed = -(kind("redemption") + kind("capture"));
    let burned = -(kind("expiry"));
    let check = ok(&engine, "store.check", json!({}));
    let stats = ok(&engine, "store.stats", json!({}));
    let t = &shop.totals;

    println!();
    println!(
        "Pitstop demo — «{}», {} — {}",
        program.name,
        engine.path().display(),
        today.format("%d.%m.%Y")
    );
    println!(
        "History {} – {} loaded in import mode, today's visits committed durably.",
        start.format("%d.%m.%Y"),
        (today - Duration::days(1)).format("%d.%m.%Y")
    );
    println!();
    println!("Customers");
    println!(
        "  {} registered ({} private, 1 taxi firm with {} drivers), {} vehicles",
        ids.len(),
        ids.len() - 1 - TAXI_DRIVERS,
        TAXI_DRIVERS,
        vehicles
    );
    println!(
        "  {} came at least once, {} came back (2+ visits): {:.0}% regulars",
        with_visits,
        regulars,
        100.0 * f64::from(regulars) / f64::from(with_visits.max(1))
    );
    println!(
        "  taxi firm: {fleet_visits} visits, {} ₽ (agreement: 15% off labour, 5% off parts, no points)",
        rub(fleet_spend)
    );
    println!();
    println!("Visits and revenue");
    println!(
        "  {} visits ({} in the history, {} today), {} refunds",
        t.visits, history_visits, today_visits, t.refunds
    );
    println!(
        "  revenue {} ₽ after {} ₽ of loyalty discounts; {} ₽ of it paid with points",
        rub(t.net),
        rub(t.discount),
        rub(t.points_paid)
    );
    println!(
        "  refunded {} ₽; average check {} ₽",
        rub(t.refunded_money),
        rub(t.net / t.visits.max(1) as f64)
    );
    println!("  by month:");
    for ((year, month), m) in &t.months {
        println!(
            "    {month:02}.{year}  {:>4} visits  {:>11} ₽  {:>7} points paid",
            m.visits,
            rub(m.net),
            rub(m.points)
        );
    }
    println!();
    println!("Points (1 point = {} ₽)", program.points.value);
    println!(
        "  issued      {:>10}   (earned on visits {}, welcome {}, birthdays {} to {} customers)",
        rub(issued),
        rub(kind("accrual")),
        rub(kind("welcome")),
        rub(kind("birthday")),
        birthday_bonuses
    );
    println!("  redeemed    {:>10}", rub(redeemed));
    println!(
        "  expired     {:>10}   (burned by the daily job: {})",
        rub(burned),
        rub(expired)
    );
    println!(
        "  refunds     {:>10}   (returned {} paid points, took back {} earned)",
        rub(kind("redemption_return") + kind("accrual_reversal")),
        rub(kind("redemption_return")),
        rub(-kind("accrual_reversal"))
    );
    println!(
        "  outstanding {:>10}   = liability {} ₽ ({} available now, {} pending the return window)",
        rub(outstanding),
        rub(outstanding
            * program
                .points
                .value
                .to_string()
                .parse::<f64>()
                .unwrap_or(1.0)),
        rub(available),
        rub(pending_points)
    );
    println!(
        "  ledger check: entries sum to {} = balances {}: {}",
        rub(ledger_sum),
        rub(outstanding),
        if (ledger_sum - outstanding).abs() < 0.005 {
            "balanced"
        } else {
            "MISMATCH"
        }
    );
    println!();
    println!("Tier mix (private customers, taxi drivers aside)");
    let mut tier_rows: Vec<(&String, &u32)> = tiers.iter().collect();
    tier_rows.sort_by(|a, b| b.1.cmp(a.1));
    for (tier, count) in tier_rows {
        println!("  {tier:<10} {count:>4}");
    }
    println!();
    println!("Top 5 private customers by spend");
    people.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (spend, name, tier, balance, visits) in people.iter().take(5) {
        println!(
            "  {:<40} {:>9} ₽  {:>2} visits  {:<8} {:>6} points",
            name,
            rub(*spend),
            visits,
            tier,
            rub(*balance)
        );
    }
    if let Some((name, quote)) = first_quote {
        println!();
        println!("At the till this morning: {name}");
        for message in quote["messages"].as_array().into_iter().flatten() {
            println!("  • {}", message["text"].as_str().unwrap_or(""));
        }
        println!(
            "  basket {} ₽, points may pay {}, to pay {} ₽, will earn {}",
            quote["totals"]["net"].as_str().unwrap_or("?"),
            quote["redemption"]["max"].as_str().unwrap_or("?"),
            quote["totals"]["money"].as_str().unwrap_or("?"),
            quote["totals"]["accrual"].as_str().unwrap_or("?")
        );
    }
    let problems = check["problems"].as_array().map_or(0, Vec::len);
    println!();
    println!(
        "Store: {} records, {:.1} MiB on disk (×{} of the raw data), store.check: {}; history loaded in {:.1} s, total {:.1} s",
        stats["records"],
        stats["disk_bytes"].as_u64().unwrap_or(0) as f64 / (1024.0 * 1024.0),
        stats["amplification"].as_str().unwrap_or("?"),
        if problems == 0 {
            "sound".to_string()
        } else {
            format!("{problems} problems")
        },
        loaded.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    if problems > 0 {
        eprintln!("{}", check["problems"]);
        std::process::exit(1);
    }
}
