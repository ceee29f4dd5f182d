//! A heat map: one row per cohort (month of first visit, the oldest at the top), one
//! column per month after it, each cell shaded by the share of the cohort that came
//! back that month. Cells a cohort has not reached yet stay empty (the triangle).
//! When cells are large enough, each carries its share as text.

use super::{Color, WIDTH, failed, label_font, left_label_font, short, slots};
use crate::error::{Error, Result};
use plotters::prelude::*;
use plotters::style::Color as _;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Margin around the plot, in pixels.
const MARGIN: u32 = 12;
/// Width of the cohort labels' area.
const Y_AXIS: u32 = 110;
/// Height of the offset labels' area.
const X_AXIS: u32 = 34;
/// Height of one row, in pixels.
const ROW: u32 = 20;
/// Lowest chart height.
const HEIGHT_MIN: u32 = 120;
/// Most labels along the offsets.
const X_LABELS_MAX: usize = 24;
/// Narrowest cell that carries its share as text, in pixels.
const TEXT_CELL_MIN: u32 = 34;
/// The palest and the darkest shade.
const PALE: Color = Color(0xee, 0xf3, 0xf8);
const DARK: Color = Color(0x1f, 0x5d, 0x99);

/// What a heat map shows.
pub(in crate::dashboard) struct HeatMap<'a> {
    /// One label per row, top to bottom.
    pub rows: &'a [String],
    /// Row by row, the share (0–100) in each column; a shorter row leaves its last
    /// columns empty.
    pub cells: &'a [Vec<f64>],
    /// A column's label.
    pub column: &'a dyn Fn(usize) -> String,
    /// A cell's text.
    pub cell: &'a dyn Fn(f64) -> String,
}

/// The shade of a share: the square root spreads the small shares (most cells after
/// the first month) over more of the scale.
fn shade(share: f64) -> Color {
    let t = (share.clamp(0.0, 100.0) / 100.0).sqrt();
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    Color(
        mix(PALE.0, DARK.0),
        mix(PALE.1, DARK.1),
        mix(PALE.2, DARK.2),
    )
}

/// A cell's place: (month after the cohort's, row segment).
type Place = (SegmentValue<usize>, SegmentValue<usize>);

/// One row's cells, shaded.
fn cells(row: &[f64], segment: usize) -> Vec<Rectangle<Place>> {
    row.iter()
        .enumerate()
        .map(|(c, share)| {
            let corners = [
                (SegmentValue::Exact(c), SegmentValue::Exact(segment)),
                (SegmentValue::Exact(c + 1), SegmentValue::Exact(segment + 1)),
            ];
            let mut cell = Rectangle::new(corners, shade(*share).rgb().filled());
            cell.set_margin(1, 1, 1, 1);
            cell
        })
        .collect()
}

/// One row's shares as text in the middle of their cells, white on the dark ones.
fn texts<'a>(
    row: &[f64],
    segment: usize,
    cell: &dyn Fn(f64) -> String,
) -> Vec<Text<'a, Place, String>> {
    row.iter()
        .enumerate()
        .map(|(c, share)| {
            let ink: &'static RGBColor = if *share > 40.0 { &WHITE } else { &BLACK };
            let style = label_font()
                .color(ink)
                .pos(Pos::new(HPos::Center, VPos::Center));
            let at = (SegmentValue::CenterOf(c), SegmentValue::CenterOf(segment));
            Text::new(cell(*share), at, style)
        })
        .collect()
}

/// The chart as one `<svg>` element.
pub(in crate::dashboard) fn draw(map: &HeatMap<'_>) -> Result<String> {
    let n = map.rows.len();
    let columns = map.cells.iter().map(Vec::len).max().unwrap_or(0);
    if n == 0 || columns == 0 {
        return Err(Error::internal("a heat map needs a row and a column"));
    }
    let top = slots(n) - 1;
    let rows = u32::try_from(top + 1).unwrap_or(u32::MAX);
    let height = rows
        .saturating_mul(ROW)
        .saturating_add(2 * MARGIN + X_AXIS)
        .max(HEIGHT_MIN);
    let row_label = |value: &SegmentValue<usize>| match value {
        SegmentValue::CenterOf(segment) => {
            map.rows.get(top.checked_sub(*segment)?).map(|r| short(r))
        }
        _ => None,
    };
    let column_label = |value: &SegmentValue<usize>| match value {
        SegmentValue::CenterOf(c) if *c < columns => Some((map.column)(*c)),
        _ => None,
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(MARGIN)
            .x_label_area_size(X_AXIS)
            .y_label_area_size(Y_AXIS)
            .build_cartesian_2d(
                (0..slots(columns) - 1).into_segmented(),
                (0..top).into_segmented(),
            )
            .map_err(failed)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(columns.min(X_LABELS_MAX))
            .x_label_formatter(&|v| column_label(v).unwrap_or_default())
            .x_label_style(label_font())
            .y_labels(top + 1)
            .y_label_formatter(&|v| row_label(v).unwrap_or_default())
            .y_label_style(left_label_font())
            .draw()
            .map_err(failed)?;
        let (width_px, _) = chart.plotting_area().dim_in_pixel();
        let columns_u32 = u32::try_from(slots(columns)).unwrap_or(u32::MAX);
        let with_text = width_px / columns_u32 >= TEXT_CELL_MIN;
        for (i, row) in map.cells.iter().enumerate().take(n) {
            let segment = top - i;
            chart.draw_series(cells(row, segment)).map_err(failed)?;
            if with_text {
                chart
                    .draw_series(texts(row, segment, map.cell))
                    .map_err(failed)?;
            }
        }
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shades_run_from_pale_to_dark() {
        assert_eq!(shade(0.0), PALE);
        assert_eq!(shade(100.0), DARK);
        assert_eq!(shade(250.0), DARK);
        let quarter = shade(25.0);
        // sqrt(0.25) = 0.5: half way.
        assert_eq!(
            quarter.0,
            ((f64::from(PALE.0) + f64::from(DARK.0)) / 2.0).round() as u8
        );
    }

    #[test]
    fn a_triangle_draws_one_cell_per_share_and_leaves_the_rest_empty() {
        let rows = [
            "янв 2025".to_string(),
            "фев 2025".to_string(),
            "мар 2025".to_string(),
        ];
        let cells = vec![vec![100.0, 50.0, 25.0], vec![100.0, 0.0], vec![100.0]];
        let svg = draw(&HeatMap {
            rows: &rows,
            cells: &cells,
            column: &|c| c.to_string(),
            cell: &|v| format!("{v}%"),
        })
        .unwrap();
        let dark = format!("fill=\"#{:02X}{:02X}{:02X}\"", DARK.0, DARK.1, DARK.2);
        assert_eq!(svg.matches(&dark).count(), 3, "the three first months");
        let rects = svg.matches("<rect").count();
        assert_eq!(rects, 1 + 6, "the background and six cells");
        assert!(svg.contains("50%") && svg.contains("фев 2025"));
        assert!(!svg.contains("height=\"-"));
    }
}
