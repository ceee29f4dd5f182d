//! Proper Russian names: the correction proposed for a name typed in the wrong case
//! (`иванов иван`, `ИВАНОВ ИВАН`) or with Latin letters that look Cyrillic inside a
//! Cyrillic word (`Иваноa` with a Latin `a`, `Cемёнов` with a Latin `C`), and the
//! gender its patronymic tells (-вич / -ич male, -вна / -ична / -инична female, оглы
//! male, кызы female). Proposals only: nothing here writes.
//!
//! Case: each part of a hyphenated name (`Римский-Корсаков`, `Анна-Мария`) and each
//! part after an apostrophe (`О'Нил`) starts with a capital and goes on in lower case;
//! the particles of Turkic patronymics (`оглы`, `кызы`, `улы`, `уулу`) and of European
//! surnames (`фон`, `де`, `ван`, `дер`, `ибн`, `аль`) stay in lower case wherever they
//! stand. Words with no Cyrillic letter are left as written (a Latin name is its
//! owner's business), and so are the digits and signs inside words.

/// Latin letters that look like Cyrillic ones, and the Cyrillic letter meant.
const LOOK_ALIKES: &[(char, char)] = &[
    ('A', 'А'),
    ('a', 'а'),
    ('B', 'В'),
    ('C', 'С'),
    ('c', 'с'),
    ('E', 'Е'),
    ('e', 'е'),
    ('H', 'Н'),
    ('K', 'К'),
    ('k', 'к'),
    ('M', 'М'),
    ('O', 'О'),
    ('o', 'о'),
    ('P', 'Р'),
    ('p', 'р'),
    ('T', 'Т'),
    ('X', 'Х'),
    ('x', 'х'),
    ('y', 'у'),
    ('Y', 'У'),
];

/// Words written in lower case inside a name.
const PARTICLES: &[&str] = &[
    "оглы", "огли", "кызы", "гызы", "улы", "уулу", "кизи", "фон", "де", "да", "ди", "ван", "дер",
    "ибн", "бен", "аль", "эль", "ла", "ле", "дю",
];

/// What is wrong with a name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum NameProblem {
    /// Not in proper case.
    Case,
    /// Latin letters inside Cyrillic words.
    Latin,
    /// Spaces doubled or around the name.
    Spaces,
}

/// Gender as a patronymic tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// -вич, -ич, оглы.
    Male,
    /// -вна, -ична, -инична, кызы.
    Female,
}

fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

/// A word with its Latin look-alikes made Cyrillic, when it has a Cyrillic letter.
fn cyrillic_word(word: &str) -> String {
    if !word.chars().any(is_cyrillic) {
        return word.to_string();
    }
    word.chars()
        .map(|c| {
            LOOK_ALIKES
                .iter()
                .find(|(latin, _)| *latin == c)
                .map_or(c, |(_, cyrillic)| *cyrillic)
        })
        .collect()
}

/// A word in proper case: capital after the start, a hyphen or an apostrophe.
fn proper_word(word: &str) -> String {
    if !word.chars().any(is_cyrillic) {
        return word.to_string();
    }
    let lower = word.to_lowercase();
    if PARTICLES.contains(&lower.as_str()) {
        return lower;
    }
    let mut out = String::with_capacity(word.len());
    let mut capital = true;
    for c in lower.chars() {
        if capital && c.is_alphabetic() {
            out.extend(c.to_uppercase());
            capital = false;
        } else {
            out.push(c);
        }
        if matches!(c, '-' | '\'' | '’') {
            capital = true;
        }
    }
    out
}

/// The proposed spelling of a person's name and what it corrects, or `None` when the
/// name is already proper.
pub fn correction(name: &str) -> Option<(String, Vec<NameProblem>)> {
    let words: Vec<&str> = name.split_whitespace().collect();
    let mut problems = Vec::new();
    if words.join(" ") != name {
        problems.push(NameProblem::Spaces);
    }
    let cyrillic: Vec<String> = words.iter().map(|w| cyrillic_word(w)).collect();
    if cyrillic.iter().zip(&words).any(|(a, b)| a != b) {
        problems.push(NameProblem::Latin);
    }
    let proper: Vec<String> = cyrillic.iter().map(|w| proper_word(w)).collect();
    if proper.iter().zip(&cyrillic).any(|(a, b)| a != b) {
        problems.push(NameProblem::Case);
    }
    if problems.is_empty() || proper.is_empty() {
        return None;
    }
    problems.sort();
    Some((proper.join(" "), problems))
}

/// The gender a name's patronymic tells, and the word that tells it. The patronymic is
/// looked for after the first word (a surname may end in -ич: «Абрамович Роман
/// Аркадьевич»); names where two words disagree tell nothing.
pub fn gender(name: &str) -> Option<(Gender, String)> {
    let written: Vec<String> = name.split_whitespace().map(cyrillic_word).collect();
    let mut found: Option<(Gender, String)> = None;
    for (i, original) in written.iter().enumerate() {
        let word = original.to_lowercase().replace('ё', "е");
        let told = match word.as_str() {
            "оглы" | "огли" | "улы" | "уулу" => Some(Gender::Male),
            "кызы" | "гызы" | "кизи" => Some(Gender::Female),
            _ if i == 0 => None,
            w => patronymic(w),
        };
        if let Some(gender) = told {
            match &found {
                Some((seen, _)) if *seen != gender => return None,
                Some(_) => {}
                None => found = Some((gender, proper_word(original))),
            }
        }
    }
    found
}

/// The gender of a patronymic's ending.
fn patronymic(word: &str) -> Option<Gender> {
    let letters = word.chars().count();
    if letters < 5 || !word.chars().all(|c| is_cyrillic(c) || c == '-') {
        return None;
    }
    if word.ends_with("вич") || word.ends_with("ич") {
        Some(Gender::Male)
    } else if word.ends_with("вна") || word.ends_with("ична") {
        Some(Gender::Female)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proper_case_keeps_particles_and_hyphens() {
        assert_eq!(
            correction("мамедов ильхам гейдар ОГЛЫ").map(|c| c.0),
            Some("Мамедов Ильхам Гейдар оглы".to_string())
        );
        assert_eq!(
            correction("РИМСКИЙ-КОРСАКОВ николай").map(|c| c.0),
            Some("Римский-Корсаков Николай".to_string())
        );
        assert_eq!(correction("Иванов Иван Иванович"), None);
        assert_eq!(correction("John Smith"), None);
    }

    #[test]
    fn doubled_spaces_particles_and_apostrophes() {
        assert_eq!(
            correction("Иванов  Иван"),
            Some(("Иванов Иван".to_string(), vec![NameProblem::Spaces]))
        );
        assert_eq!(
            correction("ФОН БРАУН вернер").map(|c| c.0),
            Some("фон Браун Вернер".to_string())
        );
        assert_eq!(
            correction("д'артаньян шарль").map(|c| c.0),
            Some("Д'Артаньян Шарль".to_string())
        );
        // A Latin word is its owner's business, even beside a Cyrillic one.
        assert_eq!(correction("Smith Иван"), None);
    }

    #[test]
    fn latin_look_alikes_become_cyrillic() {
        let (fixed, problems) = correction("Cемёнов Пётр").expect("a Latin C");
        assert_eq!(fixed, "Семёнов Пётр");
        assert_eq!(problems, vec![NameProblem::Latin]);
        assert!(fixed.chars().all(|c| c == ' ' || is_cyrillic(c)));
    }

    #[test]
    fn patronymics_tell_gender() {
        assert_eq!(gender("Иванов Иван Ильич").map(|g| g.0), Some(Gender::Male));
        assert_eq!(
            gender("Петрова Анна Ильинична").map(|g| g.0),
            Some(Gender::Female)
        );
        assert_eq!(gender("Абрамович Роман"), None);
        assert_eq!(
            gender("Алиева Лейла Гусейн кызы").map(|g| g.0),
            Some(Gender::Female)
        );
        assert_eq!(gender("Иван Петрович Вановна"), None);
    }
}
