//! What the demo generates from: a seeded random number generator, Russian names,
//! cars of makes common in Russia with valid VINs and plates, and the shop's price list.
//! Everything is deterministic: the same seed gives the same shop.

use serde_json::{Value, json};

// ------------------------------------------------------------------ a small seeded RNG

/// SplitMix64: tiny, fast, and the same sequence on every platform.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        (((self.next_u64() >> 32) * n) >> 32).min(n.saturating_sub(1))
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

// ------------------------------------------------------------------ people

pub const SURNAMES: &[&str] = &[
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

pub const MALE_NAMES: &[&str] = &[
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

pub const FEMALE_NAMES: &[&str] = &[
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
pub const PATRONYMICS: &[(&str, &str)] = &[
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

pub const SOURCES: &[&str] = &[
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

pub const MAIL_DOMAINS: &[&str] = &["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "list.ru"];

pub fn feminine(surname: &str) -> String {
    match surname.strip_suffix("ий") {
        Some(stem) => format!("{stem}ая"),
        None => format!("{surname}а"),
    }
}

pub fn translit(text: &str) -> String {
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

pub struct Model {
    pub make: &'static str,
    pub model: &'static str,
    /// World manufacturer identifier of the plant that builds it for Russia.
    pub wmi: &'static str,
    pub weight: u32,
    pub years: (i32, i32),
    pub tyre: u32,
}

pub const MODELS: &[Model] = &[
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
pub const VIN_CHARS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
/// Model-year codes from 2010.
pub const YEAR_CODES: &[u8] = b"ABCDEFGHJKLMNPRSTVWXY";

/// ISO 3779 check digit (position 9).
pub fn vin_check_digit(vin: &[u8]) -> u8 {
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

pub fn make_vin(rng: &mut Rng, model: &Model, year: i32) -> String {
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
    String::from_utf8_lossy(&vin).into_owned()
}

/// Letters used on Russian plates (those that look Latin).
pub const PLATE_LETTERS: &[char] = &['А', 'В', 'Е', 'К', 'М', 'Н', 'О', 'Р', 'С', 'Т', 'У', 'Х'];
pub const REGIONS: &[&str] = &[
    "77", "97", "99", "177", "197", "199", "777", "799", "50", "90", "150", "190", "750",
];

pub fn make_plate(rng: &mut Rng) -> String {
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

pub fn line(sku: &str, name: &str, kind: &str, category: &str, qty: &str, price: i64) -> Value {
    json!({ "sku": sku, "name": name, "kind": kind, "category": category,
            "qty": qty, "unit_price": format!("{price}.00") })
}

pub fn oil_change(rng: &mut Rng, lines: &mut Vec<Value>) {
    let (sku, name, price) = *rng.pick(&[
        ("OIL-5W30-SHELL", "Масло Shell Helix HX8 5W-30, л", 980),
        ("OIL-5W40-LUK", "Масло Лукойл Генезис 5W-40, л", 720),
        ("OIL-5W30-GPN", "Масло G-Energy 5W-30, л", 810),
        ("OIL-0W20-TOY", "Масло Toyota 0W-20, л", 1250),
    ]);
    let litres = *rng.pick(&["3.5", "4", "4.2", "4.5"]);
    lines.push(line(
        "LAB-OIL",
        "Замена масла и масляного фильтра",
        "labor",
        "oil_change",
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
    if rng.chance(0.2) {
        lines.push(line(
            "ADD-FLUSH",
            "Промывка двигателя Liqui Moly Pro-Line",
            "goods",
            "additives",
            "1",
            890,
        ));
    }
}

pub fn big_service(rng: &mut Rng, lines: &mut Vec<Value>) {
    lines.push(line(
        "TO-2",
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

pub fn tyre_change(rng: &mut Rng, tyre: u32, lines: &mut Vec<Value>, winter: bool) {
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
        "tyre_change",
        "1",
        price,
    ));
    if rng.chance(0.35) {
        lines.push(line(
            "TYRE-STORE",
            "Сезонное хранение шин",
            "labor",
            "tyre_storage",
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

pub fn brake_pads(rng: &mut Rng, lines: &mut Vec<Value>) {
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

pub fn small_job(rng: &mut Rng, lines: &mut Vec<Value>) {
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
