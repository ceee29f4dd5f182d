//! Sections about the programme itself: the tier mix and the moves between tiers, the
//! points liability month by month and what expires soon.

use super::{Page, Speech};
use crate::dashboard::Figures;
use crate::dashboard::chart::{Color, Series, bars, columns, coordinate, palette};
use crate::error::Result;
use crate::report::TierMoveRow;
use crate::tier::MoveReason;
use std::collections::BTreeMap;

pub(super) fn tiers(page: &mut Page, speech: &Speech, figures: &Figures) -> Result<()> {
    let words = speech.words;
    let report = &figures.tiers;
    page.open_section("tiers", words.tiers_title);
    let mix: Vec<_> = report.tiers.iter().filter(|t| t.customers > 0).collect();
    if mix.is_empty() {
        page.empty(words.no_data);
    } else {
        let names: Vec<String> = mix
            .iter()
            .map(|t| tier_name(speech, &t.tier, &t.name))
            .collect();
        let series = [Series {
            name: words.customers.to_string(),
            color: palette::BLUE,
            values: mix.iter().map(|t| t.customers as f64).collect(),
        }];
        let svg = bars::draw(&bars::Bars {
            categories: &names,
            series: &series,
            value: &|v| speech.axis(v),
        })?;
        page.figure("tiers", &[], &svg);
        let rows: Vec<Vec<String>> = names
            .iter()
            .zip(&mix)
            .map(|(name, t)| vec![name.clone(), speech.count(t.customers)])
            .collect();
        page.table(&[words.tier, words.customers], &rows, None);
    }
    moves(page, speech, figures)?;
    page.close_section();
    Ok(())
}

/// A tier's name in the programme, its code when the programme has none for it.
fn tier_name(speech: &Speech, code: &Option<String>, name: &str) -> String {
    match (code, name.trim()) {
        (None, _) => speech.words.no_tier.to_string(),
        (Some(code), "") => code.clone(),
        (Some(_), name) => name.to_string(),
    }
}

/// The moves between tiers: up and down by month as columns, every kind in a table.
fn moves(page: &mut Page, speech: &Speech, figures: &Figures) -> Result<()> {
    let words = speech.words;
    let rows = &figures.tiers.rows;
    if rows.is_empty() {
        page.empty(words.no_moves);
        return Ok(());
    }
    let mut by_month: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for row in rows {
        let month = by_month.entry(row.month.as_str()).or_default();
        match row.direction.as_str() {
            "up" => month.0 += row.moves as f64,
            "down" => month.1 += row.moves as f64,
            _ => {}
        }
    }
    let months: Vec<String> = by_month.keys().map(|m| speech.month(m)).collect();
    let stacks = [
        Series {
            name: words.moves_up.to_string(),
            color: palette::GREEN,
            values: by_month.values().map(|m| m.0).collect(),
        },
        Series {
            name: words.moves_down.to_string(),
            color: palette::RED,
            values: by_month.values().map(|m| m.1).collect(),
        },
    ];
    let svg = columns::draw(&columns::Columns {
        categories: &months,
        stacks: &stacks,
        line: None,
        left: &|v| speech.axis(v),
        right: &|v| speech.axis(v),
    })?;
    let legend: Vec<(&str, Color)> = stacks.iter().map(|s| (s.name.as_str(), s.color)).collect();
    page.figure("tier-moves", &legend, &svg);
    moves_table(page, speech, figures);
    Ok(())
}

/// Every kind of move by month, with the tiers by name.
fn moves_table(page: &mut Page, speech: &Speech, figures: &Figures) {
    let words = speech.words;
    let names: BTreeMap<&str, &str> = figures
        .tiers
        .tiers
        .iter()
        .filter_map(|t| Some((t.tier.as_deref()?, t.name.as_str())))
        .collect();
    let name = |code: &Option<String>| {
        let known = code
            .as_deref()
            .and_then(|c| names.get(c))
            .copied()
            .unwrap_or("");
        tier_name(speech, code, known)
    };
    let table: Vec<Vec<String>> = figures
        .tiers
        .rows
        .iter()
        .map(|r: &TierMoveRow| {
            vec![
                speech.month(&r.month),
                name(&r.from_tier),
                name(&r.to_tier),
                direction(speech, &r.direction).to_string(),
                reason(speech, r.reason).to_string(),
                speech.count(r.moves),
            ]
        })
        .collect();
    let header = [
        words.month,
        words.tier_from,
        words.tier_to,
        words.direction,
        words.reason,
        words.moves,
    ];
    page.folded_table(words.moves, &header, &table, None);
}

fn direction(speech: &Speech, direction: &str) -> &'static str {
    match direction {
        "up" => speech.words.moves_up,
        "down" => speech.words.moves_down,
        _ => speech.words.moves_changed,
    }
}

fn reason(speech: &Speech, reason: MoveReason) -> &'static str {
    let reasons = &speech.words.reasons;
    match reason {
        MoveReason::Visit => reasons[0],
        MoveReason::Refund => reasons[1],
        MoveReason::Review => reasons[2],
        MoveReason::Import => reasons[3],
    }
}

pub(super) fn points(page: &mut Page, speech: &Speech, figures: &Figures) -> Result<()> {
    let words = speech.words;
    let monthly = &figures.points_monthly;
    let currency = figures.currency.as_str();
    page.open_section("points", words.liability_title);
    if monthly.rows.is_empty() {
        page.empty(words.no_data);
    } else {
        let months: Vec<String> = monthly
            .rows
            .iter()
            .map(|r| speech.month(&r.month))
            .collect();
        let stacks = [Series {
            name: words.liability.to_string(),
            color: palette::BLUE,
            values: monthly
                .rows
                .iter()
                .map(|r| coordinate(r.liability))
                .collect(),
        }];
        let svg = columns::draw(&columns::Columns {
            categories: &months,
            stacks: &stacks,
            line: None,
            left: &|v| speech.axis(v),
            right: &|v| speech.axis(v),
        })?;
        page.figure("liability", &[], &svg);
        let rows: Vec<Vec<String>> = months
            .iter()
            .zip(&monthly.rows)
            .map(|(month, r)| {
                vec![
                    month.clone(),
                    speech.number(r.issued),
                    speech.number(r.redeemed),
                    speech.number(r.expired),
                    speech.number(r.adjusted),
                    speech.number(r.outstanding),
                    speech.money(r.liability, currency),
                ]
            })
            .collect();
        let header = [
            words.month,
            words.issued,
            words.redeemed,
            words.expired,
            words.adjusted,
            words.outstanding,
            words.liability,
        ];
        page.folded_table(words.month, &header, &rows, None);
    }
    expiring(page, speech, figures)?;
    page.close_section();
    Ok(())
}

/// What expires within 30, 60 and 90 days, and the liability now.
fn expiring(page: &mut Page, speech: &Speech, figures: &Figures) -> Result<()> {
    let words = speech.words;
    let soon = &figures.points_monthly.expiring;
    let within = [soon.days_30, soon.days_60, soon.days_90];
    if within.iter().all(|p| p.is_zero()) {
        page.empty(words.nothing_expires);
    } else {
        let categories: Vec<String> = words
            .expiring_within
            .iter()
            .map(|w| format!("{} {w}", words.expiring))
            .collect();
        let series = [Series {
            name: words.expiring.to_string(),
            color: palette::ORANGE,
            values: within.iter().map(|p| coordinate(*p)).collect(),
        }];
        let svg = bars::draw(&bars::Bars {
            categories: &categories,
            series: &series,
            value: &|v| speech.axis(v),
        })?;
        page.figure("expiring", &[], &svg);
    }
    let points = &figures.points;
    let currency = figures.currency.as_str();
    let mut rows: Vec<Vec<String>> = words
        .expiring_within
        .iter()
        .zip(within)
        .map(|(w, p)| vec![format!("{} {w}", words.expiring), speech.number(p)])
        .collect();
    rows.push(vec![
        words.expiring_customers.to_string(),
        speech.count(soon.customers_90),
    ]);
    let totals = [
        (words.issued, points.issued),
        (words.redeemed, points.redeemed),
        (words.expired, points.expired),
        (words.outstanding, points.outstanding),
    ];
    rows.extend(
        totals
            .iter()
            .map(|(k, v)| vec![k.to_string(), speech.number(*v)]),
    );
    rows.push(vec![
        words.accounts_with_balance.to_string(),
        speech.count(points.accounts_with_balance),
    ]);
    rows.push(vec![
        words.liability.to_string(),
        speech.money(points.liability, currency),
    ]);
    page.table(&[words.points_title, ""], &rows, None);
    Ok(())
}
