//! Service names that mean the same: the host's work and part names reduced to a key
//! that word order, abbreviations, punctuation, case, ё/е, grammatical endings and a
//! few synonyms do not change.
//!
//! [`key`] tokenizes a name (words split on anything that is not a letter or a digit,
//! after the abbreviations written with punctuation, `к-т`, `а/м`, `т.о.`, are read as
//! words), expands abbreviations (`зам.`, `диагност.`, `масл.`), drops filler words
//! (`в`, `на`, `работы`), strips Russian endings ([`stem`]: «замена», «заменить»,
//! «замене» meet at `замен`), maps synonyms to one concept (`двигатель`, `мотор`,
//! `ДВС`; `техническое обслуживание` and `ТО`) and sorts what remains. Two names with
//! the same key are one service. [`near`] is the precise near-miss: two keys of the same
//! length that differ in one long word by one typing slip. Everything else that differs
//! (АКПП and двигатель, передних and задних, ТО-1 and ТО-2) stays apart.

/// How names are compared for identity (aliases): lower case, `ё` as `е`, single
/// spaces.
pub fn fold(name: &str) -> String {
    crate::normalize::fold_name(name)
}

/// Abbreviations written with punctuation inside them, read before words are split.
const WHOLE_WORDS: &[(&str, &str)] = &[
    ("к-т", "комплект"),
    ("к-та", "комплект"),
    ("к-кт", "комплект"),
    ("а/м", "автомобиль"),
    ("т.о.", "то"),
    ("т.о", "то"),
    ("с/у", "снятие установка"),
    ("ф-р", "фильтр"),
    ("ф-ра", "фильтр"),
    ("ож", "охлаждающая жидкость"),
];

/// Abbreviated words (as written, without their dot) and what they stand for.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("зам", "замена"),
    ("замен", "замена"),
    ("диаг", "диагностика"),
    ("диагн", "диагностика"),
    ("диагност", "диагностика"),
    ("масл", "масло"),
    ("двиг", "двигатель"),
    ("дв", "двигатель"),
    ("тех", "техническое"),
    ("техн", "техническое"),
    ("обсл", "обслуживание"),
    ("обслуж", "обслуживание"),
    ("пер", "передний"),
    ("передн", "передний"),
    ("зад", "задний"),
    ("задн", "задний"),
    ("лев", "левый"),
    ("прав", "правый"),
    ("торм", "тормозной"),
    ("колод", "колодки"),
    ("жидк", "жидкость"),
    ("конд", "кондиционер"),
    ("регул", "регулировка"),
    ("рег", "регулировка"),
    ("комп", "компьютерная"),
    ("компл", "комплект"),
    ("кт", "комплект"),
    ("сх", "схождение"),
    ("сход", "схождение"),
    ("разв", "развал"),
    ("возд", "воздушный"),
    ("топл", "топливный"),
    ("сал", "салонный"),
    ("снят", "снятие"),
    ("уст", "установка"),
];

/// Words that say nothing about which service it is.
const FILLER: &[&str] = &[
    "в",
    "во",
    "на",
    "для",
    "и",
    "с",
    "со",
    "по",
    "до",
    "к",
    "ко",
    "от",
    "из",
    "без",
    "а",
    "или",
    "под",
    "над",
    "при",
    "у",
    "о",
    "об",
    "шт",
    "ед",
    "работы",
    "работ",
    "работа",
    "услуга",
    "услуги",
    "услуг",
];

/// Stems that name one concept (after [`stem`]).
const SYNONYMS: &[(&str, &str)] = &[
    ("двигател", "двс"),
    ("мотор", "двс"),
    ("моторн", "двс"),
    ("смен", "замен"),
    ("маслян", "масл"),
    ("ремн", "ремен"),
    ("тормоз", "тормозн"),
    ("колодочк", "колодк"),
    ("антифриз", "ож"),
    ("тосол", "ож"),
];

/// Phrases (of stems) that name one concept.
const PHRASES: &[(&[&str], &str)] = &[
    (&["техническ", "обслуживан"], "то"),
    (&["охлаждающ", "жидкост"], "ож"),
    (&["автоматическ", "коробк"], "акпп"),
    (&["механическ", "коробк"], "мкпп"),
    (&["коробк", "автомат"], "акпп"),
];

/// Endings stripped by [`stem`], longest first.
const ENDINGS: &[&str] = &[
    "иями", "ями", "ами", "ием", "иям", "иях", "ого", "его", "ому", "ему", "ыми", "ими", "ить",
    "ать", "ять", "еть", "ией", "ия", "ию", "ии", "ие", "ий", "ее", "ые", "ое", "ей", "ый", "ой",
    "ем", "им", "ым", "ом", "ах", "их", "ых", "ам", "ям", "ях", "ов", "ев", "ую", "юю", "ая", "яя",
    "а", "я", "о", "е", "у", "ю", "ы", "и", "ь", "й",
];

/// Shortest stem left after an ending is stripped.
const STEM_MIN: usize = 3;

/// A word without its grammatical ending: «замена», «замены», «заменить» → `замен`;
/// «колодок» → `колодк` (the vowel of the plural genitive dropped). Words of digits or
/// Latin letters are kept as they are.
pub fn stem(word: &str) -> String {
    if !word.chars().any(is_cyrillic) {
        return word.to_string();
    }
    let chars = word.chars().count();
    if chars >= 6
        && let Some(base) = word.strip_suffix("ок")
    {
        return format!("{base}к");
    }
    for ending in ENDINGS {
        if let Some(base) = word.strip_suffix(ending)
            && base.chars().count() >= STEM_MIN
        {
            return base.to_string();
        }
    }
    word.to_string()
}

fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

fn lookup<'a>(table: &'a [(&str, &'a str)], word: &str) -> Option<&'a str> {
    table
        .iter()
        .find(|(from, _)| *from == word)
        .map(|(_, to)| *to)
}

/// The raw words of a name: lower case, `ё` as `е`, whole-word abbreviations expanded,
/// split on everything that is not a letter or a digit.
fn words(name: &str) -> Vec<String> {
    let lowered = name.to_lowercase().replace('ё', "е");
    let mut out = Vec::new();
    for raw in lowered.split_whitespace() {
        let trimmed = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '.');
        let bare = trimmed.trim_end_matches('.');
        if let Some(expanded) = lookup(WHOLE_WORDS, trimmed).or(lookup(WHOLE_WORDS, bare)) {
            out.extend(expanded.split(' ').map(str::to_string));
            continue;
        }
        out.extend(
            raw.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_string),
        );
    }
    out
}

/// The concept words of a name in their written order (before sorting).
fn concepts(name: &str) -> Vec<String> {
    let mut stems: Vec<String> = Vec::new();
    for word in words(name) {
        let word = lookup(ABBREVIATIONS, &word).unwrap_or(&word).to_string();
        for part in word.split(' ') {
            if FILLER.contains(&part) {
                continue;
            }
            stems.push(stem(part));
        }
    }
    let mut joined: Vec<String> = Vec::with_capacity(stems.len());
    let mut i = 0;
    while i < stems.len() {
        if let Some((phrase, to)) = PHRASES
            .iter()
            .find(|(phrase, _)| stems[i..].starts_with_str(phrase))
        {
            joined.push((*to).to_string());
            i += phrase.len();
            continue;
        }
        joined.push(synonym(&stems[i]));
        i += 1;
    }
    joined
}

/// A stem's concept: the synonym table's, also for a stem one slip away from a long
/// entry of it («двигатля»).
fn synonym(stem: &str) -> String {
    if let Some(to) = lookup(SYNONYMS, stem) {
        return to.to_string();
    }
    if stem.chars().count() >= 6
        && let Some((_, to)) = SYNONYMS
            .iter()
            .find(|(from, _)| from.chars().count() >= 6 && distance(from, stem) <= 1)
    {
        return (*to).to_string();
    }
    stem.to_string()
}

trait StartsWithStr {
    fn starts_with_str(&self, phrase: &[&str]) -> bool;
}

impl StartsWithStr for [String] {
    fn starts_with_str(&self, phrase: &[&str]) -> bool {
        self.len() >= phrase.len() && self.iter().zip(phrase).all(|(a, b)| a == b)
    }
}

/// The sorted, distinct concept words of a name: names with equal tokens are one
/// service.
pub fn tokens(name: &str) -> Vec<String> {
    let mut tokens = concepts(name);
    tokens.sort();
    tokens.dedup();
    tokens
}

/// The key of a name: its [`tokens`] joined by spaces (empty for a name of filler
/// and punctuation only).
pub fn key(name: &str) -> String {
    tokens(name).join(" ")
}

/// Shortest word a slip may be forgiven in.
const SLIP_MIN: usize = 5;

/// Whether two keys' tokens differ only by one typing slip in one long word (a letter
/// missed, added, replaced, or two swapped): `балансировк` and `балансирвк`. Keys of
/// different lengths, or that differ in two words, or in a short word (`акпп`/`мкпп`),
/// are not near.
pub fn near(a: &[String], b: &[String]) -> bool {
    if a.len() != b.len() || a == b {
        return false;
    }
    let only_a: Vec<&String> = a.iter().filter(|t| !b.contains(t)).collect();
    let only_b: Vec<&String> = b.iter().filter(|t| !a.contains(t)).collect();
    match (only_a.as_slice(), only_b.as_slice()) {
        ([x], [y]) => {
            x.chars().count() >= SLIP_MIN
                && y.chars().count() >= SLIP_MIN
                && x.chars().any(is_cyrillic)
                && distance(x, y) <= 1
        }
        _ => false,
    }
}

/// The keys under which a key meets the keys [`near`] it: the key with one word left
/// out, once per word (a long word only).
pub fn near_blocks(tokens: &[String]) -> Vec<String> {
    (0..tokens.len())
        .filter(|&i| tokens[i].chars().count() >= SLIP_MIN)
        .map(|i| {
            let mut rest: Vec<&str> = tokens.iter().map(String::as_str).collect();
            rest.remove(i);
            format!("{}|{}", tokens.len(), rest.join(" "))
        })
        .collect()
}

/// Optimal string alignment distance (edits and adjacent swaps), by characters.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endings_meet() {
        for word in [
            "замена",
            "замены",
            "заменить",
            "замене",
            "замену",
            "заменой",
        ] {
            assert_eq!(stem(word), "замен", "{word}");
        }
        assert_eq!(stem("колодок"), "колодк");
        assert_eq!(stem("колодки"), "колодк");
        assert_eq!(stem("зажигания"), stem("зажигание"));
        assert_eq!(stem("то"), "то");
        assert_eq!(stem("шин"), "шин");
        assert_eq!(stem("5w30"), "5w30");
    }

    #[test]
    fn word_forms_and_order_meet() {
        let key_of = |s: &str| key(s);
        assert_eq!(key_of("замена масла"), key_of("масло замена"));
        assert_eq!(key_of("замена масла"), key_of("Заменить масло"));
        assert_eq!(
            key_of("Масло моторное замена"),
            key_of("Масло в двигателе — замена")
        );
        assert_eq!(key_of("ТО"), key_of("т.о."));
        assert_ne!(key_of("ТО-1"), key_of("ТО-2"));
        assert_ne!(
            key_of("Замена масла в АКПП"),
            key_of("Замена масла в двигателе")
        );
        assert_eq!(key_of("— , ."), "");
    }

    #[test]
    fn distance_counts_edits_and_swaps() {
        assert_eq!(distance("балансировк", "балансировк"), 0);
        assert_eq!(distance("балансировк", "балансирвк"), 1);
        assert_eq!(distance("балансировк", "баланисровк"), 1);
        assert_eq!(distance("акпп", "мкпп"), 1);
        assert_eq!(distance("", "abc"), 3);
    }

    #[test]
    fn near_needs_one_long_slip() {
        let t = |s: &str| tokens(s);
        assert!(near(&t("Балансировка колес"), &t("Балансирвка колес")));
        assert!(!near(&t("Замена масла АКПП"), &t("Замена масла МКПП")));
        assert!(!near(&t("Замена масла"), &t("Замена масла ДВС")));
    }
}
