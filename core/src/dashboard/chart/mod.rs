//! The dashboard's charts, drawn by `plotters` on its SVG backend into a string: one file
//! per kind of chart. Each takes plain series (names, colours, values) that the page
//! made from the typed report results, and returns one `<svg>` element.
//!
//! plotters is built without a font feature: it then sets text as SVG `<text>` for the
//! browser to lay out, needs no font file, fontconfig or freetype, and only estimates
//! text widths (used for nothing here: the label areas have fixed sizes).

pub(super) mod bars;
pub(super) mod columns;
pub(super) mod heatmap;

use crate::error::Error;
use plotters::prelude::*;
// The colour trait of plotters, under no name: `Color` here is the palette's type.
use plotters::style::Color as _;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Width of every chart, in pixels (the page scales it down on a narrow screen).
pub(super) const WIDTH: u32 = 880;
/// Height of a chart over months.
pub(super) const HEIGHT: u32 = 320;
/// Most labels under a month axis; more months share them.
pub(super) const X_LABELS_MAX: usize = 10;
/// Longest category label, in characters, before it is cut with an ellipsis.
pub(super) const LABEL_CHARS_MAX: usize = 26;
/// Width of a series' line, in pixels. Wider than the grid's lines (1 px), which is
/// how a reader of the SVG tells data from the grid.
pub(super) const LINE_WIDTH: u32 = 3;

/// A colour of the palette.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::dashboard) struct Color(pub u8, pub u8, pub u8);

impl Color {
    /// For plotters.
    pub fn rgb(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }

    /// For CSS: `#2e6db4`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// The palette: distinct for readers with the common colour-vision deficiencies.
pub(in crate::dashboard) mod palette {
    use super::Color;
    pub const BLUE: Color = Color(0x2e, 0x6d, 0xb4);
    pub const ORANGE: Color = Color(0xe0, 0x7b, 0x22);
    pub const GREEN: Color = Color(0x2f, 0x9e, 0x6e);
    pub const RED: Color = Color(0xc8, 0x3e, 0x3e);
    pub const GREY: Color = Color(0x9a, 0xa5, 0xb1);
}

/// One series of values, one per category.
pub(in crate::dashboard) struct Series {
    pub name: String,
    pub color: Color,
    pub values: Vec<f64>,
}

impl Series {
    /// The value of category `i` (0 past the end).
    pub fn value(&self, i: usize) -> f64 {
        self.values.get(i).copied().unwrap_or(0.0)
    }
}

/// Slots on a category axis for `n` categories: plotters cannot map a range of one value
/// (every position comes out wrong), so one category gets an empty slot beside it.
pub(super) fn slots(n: usize) -> usize {
    n.max(2)
}

/// A decimal as a chart coordinate (the figures in the page's text stay exact).
pub(in crate::dashboard) fn coordinate(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(0.0)
}

/// A drawing failure (plotters writes into a string, so this means a bug).
pub(super) fn failed(err: impl std::fmt::Display) -> Error {
    Error::internal(format!("drawing a dashboard chart: {err}"))
}

/// The top of a value axis: a little above the largest value, 1 when all are zero.
pub(super) fn top_of(values: impl IntoIterator<Item = f64>) -> f64 {
    let max = values.into_iter().fold(0.0_f64, f64::max);
    if max > 0.0 { max * 1.1 } else { 1.0 }
}

/// The text style of labels.
pub(super) fn label_font() -> TextStyle<'static> {
    ("sans-serif", 15)
        .into_font()
        .color(&RGBColor(0x33, 0x3d, 0x47))
}

/// The text style of labels on a category axis on the left, set against the axis.
pub(super) fn left_label_font() -> TextStyle<'static> {
    label_font().pos(Pos::new(HPos::Right, VPos::Center))
}

/// The grid's light lines.
pub(super) fn grid() -> ShapeStyle {
    RGBColor(0xe3, 0xe7, 0xeb).stroke_width(1)
}

/// A category's label, cut to [`LABEL_CHARS_MAX`] characters.
pub(super) fn short(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS_MAX {
        return label.to_string();
    }
    let mut cut: String = label.chars().take(LABEL_CHARS_MAX - 1).collect();
    cut.push('…');
    cut
}
