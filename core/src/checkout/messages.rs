//! The cashier's and the customer's notes on a quote or a receipt: birthday, points
//! about to burn, the next tier, the shop's own messages.

use crate::context::{Ctx, days_since_birthday, days_until_birthday};
use crate::customer::Customer;
use crate::ledger::Book;
use crate::normalize;
use crate::program::Program;
use crate::tier::{self, WindowStats};
use crate::wording::{Language, Message, format_date};
use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;

/// The tier benefit that makes `priority_service` true.
pub const PRIORITY_SERVICE: &str = "priority_service";

pub(super) fn messages(
    program: &Program,
    ctx: &Ctx,
    customer: &Customer,
    book: &Book,
    stats: &WindowStats,
) -> Vec<Message> {
    // The notes are Russian texts; numbers in them follow the programme's locale.
    let language = Language::of_tag(&program.locale);
    let mut out = vec![greeting(program, customer)];
    out.extend(birthday_note(customer, ctx.today));
    out.extend(expiring_note(program, ctx.today, book, language));
    if book.account.pending > Decimal::ZERO {
        out.push(Message {
            kind: "points_pending".into(),
            text: format!(
                "Ожидают начисления баллы: {}",
                language.number(&book.account.pending.to_string())
            ),
        });
    }
    if let Some(tier) = customer.tier.as_deref().and_then(|code| program.tier(code)) {
        for benefit in &tier.benefits {
            out.push(Message {
                kind: "benefit".into(),
                text: benefit.clone(),
            });
        }
    }
    out.extend(tier_progress(program, customer, stats, language));
    out
}

/// «Клиент: Иванов Иван, уровень Золото, VIP».
fn greeting(program: &Program, customer: &Customer) -> Message {
    let tier_name = customer
        .tier
        .as_deref()
        .and_then(|code| program.tier(code))
        .map(|t| {
            if t.name.is_empty() {
                t.code.clone()
            } else {
                t.name.clone()
            }
        });
    let mut greeting = format!("Клиент: {}", customer.full_name);
    if let Some(name) = &tier_name {
        greeting.push_str(&format!(", уровень {name}"));
    }
    if customer.vip {
        greeting.push_str(", VIP");
    }
    Message {
        kind: "customer".into(),
        text: greeting,
    }
}

/// A birthday today, within the coming week or the past one.
fn birthday_note(customer: &Customer, today: NaiveDate) -> Option<Message> {
    let birthday = customer.birthday?;
    let until = days_until_birthday(birthday, today);
    let since = days_since_birthday(birthday, today);
    let text = if until == 0 {
        "Сегодня день рождения клиента!".to_string()
    } else if until <= 7 {
        format!(
            "День рождения через {until} дн. ({:02}.{:02})",
            birthday.day(),
            birthday.month()
        )
    } else if since <= 7 {
        format!("День рождения был {since} дн. назад")
    } else {
        return None;
    };
    Some(Message {
        kind: "birthday".into(),
        text,
    })
}

/// Points that burn within the programme's notice period, and the first date they do.
fn expiring_note(
    program: &Program,
    today: NaiveDate,
    book: &Book,
    language: Language,
) -> Option<Message> {
    let horizon = today + Duration::days(i64::from(program.expiring_notice_days));
    let mut expiring = Decimal::ZERO;
    let mut first_date: Option<NaiveDate> = None;
    for lot in book.lots() {
        if let Some(date) = lot.expires_on
            && date <= horizon
            && lot.pending_until.is_none()
            && lot.remaining > Decimal::ZERO
        {
            expiring += lot.remaining;
            first_date = Some(first_date.map_or(date, |d: NaiveDate| d.min(date)));
        }
    }
    Some(Message {
        kind: "points_expiring".into(),
        text: format!(
            "Сгорят баллы: {}, ближайшие — {}",
            language.number(&expiring.to_string()),
            format_date(first_date?)
        ),
    })
}

/// What the customer still needs for the next tier: «До уровня Золото осталось:
/// 12 345,00 ₽ и 2 визита».
pub(super) fn tier_progress(
    program: &Program,
    customer: &Customer,
    stats: &WindowStats,
    language: Language,
) -> Option<Message> {
    let (next, spend, visits) = tier::next_tier(program, customer.tier.as_deref(), stats)?;
    let name = if next.name.is_empty() {
        next.code.clone()
    } else {
        next.name.clone()
    };
    let currency = if program.currency == "RUB" {
        "₽"
    } else {
        program.currency.as_str()
    };
    let mut missing = Vec::new();
    if spend > Decimal::ZERO {
        missing.push(format!(
            "{} {currency}",
            language.number(&normalize::money(spend).to_string())
        ));
    }
    if visits > 0 {
        missing.push(language.count(u64::from(visits), ("визит", "визита", "визитов")));
    }
    (!missing.is_empty()).then(|| Message {
        kind: "tier_progress".into(),
        text: format!("До уровня {name} осталось: {}", missing.join(" и ")),
    })
}
