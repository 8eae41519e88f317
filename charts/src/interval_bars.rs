//! Interval bars: one row per verdict rule, its accuracy as a bar, its 95% interval as a
//! whisker, the paper's number as a black diamond, and the chance line.

use crate::palette::{INK, MUTED, REFERENCE, Role};
use crate::scale::{Axis, Scale, percent};
use crate::svg::{SvgWriter, caption, dashed_line, heading, num, wrap};
use crate::{Chart, Labels};

/// One row.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalRow {
    /// Its name on the left.
    pub label: String,
    /// The value (a fraction, 0 to 1).
    pub value: f64,
    /// The 95% interval.
    pub interval: (f64, f64),
    /// The reference (the paper's number), if there is one.
    pub reference: Option<f64>,
    /// A short note after the numbers (`123 ties`).
    pub note: Option<String>,
    /// The bar's colour.
    pub role: Role,
}

/// An interval-bar chart of fractions shown as percentages.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalBarsChart {
    /// Id, title and description.
    pub labels: Labels,
    /// The value axis' name, with its unit.
    pub value_label: String,
    /// The rows, top to bottom.
    pub rows: Vec<IntervalRow>,
    /// Where the chance line goes (0.5 for pair accuracy), if anywhere.
    pub chance: Option<f64>,
    /// What the diamonds are (`the paper's accuracy`).
    pub reference_name: String,
}

impl IntervalBarsChart {
    /// The SVG.
    pub fn draw(&self) -> Chart {
        let row_height = 26.0;
        let top = 48.0;
        let plot_bottom = top + row_height * self.rows.len() as f64;
        let width = 720u32;
        let height = (plot_bottom + 86.0).ceil() as u32;
        let (left, right) = (190.0, 500.0);
        let axis = Axis::new(Scale::Linear, 0.0, 1.0, left, right);
        let labels = Labels {
            description: self.full_description(),
            ..self.labels.clone()
        };
        let mut writer = SvgWriter::new(width, height, &labels);
        heading(&mut writer, 10.0, &self.labels.title);

        // Grid and the percentage axis.
        for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let x = axis.pixel(tick);
            writer.leaf(
                "line",
                &[
                    ("x1", num(x)),
                    ("x2", num(x)),
                    ("y1", num(top - 6.0)),
                    ("y2", num(plot_bottom)),
                    ("stroke", crate::palette::GRID.to_owned()),
                ],
            );
            writer.text(
                "text",
                &[
                    ("x", num(x)),
                    ("y", num(plot_bottom + 16.0)),
                    ("text-anchor", "middle".to_owned()),
                    ("fill", MUTED.to_owned()),
                ],
                &format!("{:.0}%", tick * 100.0),
            );
        }
        writer.text(
            "text",
            &[
                ("x", num((left + right) / 2.0)),
                ("y", num(plot_bottom + 32.0)),
                ("text-anchor", "middle".to_owned()),
                ("fill", INK.to_owned()),
            ],
            &self.value_label,
        );
        writer.text(
            "text",
            &[
                ("x", num(right + 10.0)),
                ("y", num(top - 14.0)),
                ("fill", MUTED.to_owned()),
            ],
            "accuracy [95% interval]",
        );

        for (index, row) in self.rows.iter().enumerate() {
            let y = top + row_height * (index as f64 + 0.5);
            writer.open(
                "g",
                &[
                    ("class", "interval-row".to_owned()),
                    ("data-row", row.label.clone()),
                    ("data-value", format!("{:.6}", row.value)),
                    (
                        "data-interval",
                        format!("{:.6} {:.6}", row.interval.0, row.interval.1),
                    ),
                ],
            );
            writer.text(
                "text",
                &[
                    ("x", num(left - 8.0)),
                    ("y", num(y + 4.0)),
                    ("text-anchor", "end".to_owned()),
                    ("fill", INK.to_owned()),
                ],
                &row.label,
            );
            let x0 = axis.pixel(0.0);
            let x = axis.pixel(row.value.clamp(0.0, 1.0));
            writer.leaf(
                "rect",
                &[
                    ("x", num(x0)),
                    ("y", num(y - 7.0)),
                    ("width", num((x - x0).max(0.0))),
                    ("height", "14".to_owned()),
                    ("fill", row.role.tint().to_owned()),
                    ("stroke", row.role.colour().to_owned()),
                ],
            );
            let (lo, hi) = (
                axis.pixel(row.interval.0.clamp(0.0, 1.0)),
                axis.pixel(row.interval.1.clamp(0.0, 1.0)),
            );
            for d in [
                format!("M{},{} L{},{}", num(lo), num(y), num(hi), num(y)),
                format!(
                    "M{},{} L{},{}",
                    num(lo),
                    num(y - 5.0),
                    num(lo),
                    num(y + 5.0)
                ),
                format!(
                    "M{},{} L{},{}",
                    num(hi),
                    num(y - 5.0),
                    num(hi),
                    num(y + 5.0)
                ),
            ] {
                writer.leaf(
                    "path",
                    &[
                        ("d", d),
                        ("stroke", INK.to_owned()),
                        ("stroke-width", "1.5".to_owned()),
                    ],
                );
            }
            if let Some(reference) = row.reference {
                let rx = axis.pixel(reference.clamp(0.0, 1.0));
                writer.leaf(
                    "polygon",
                    &[
                        (
                            "points",
                            format!(
                                "{},{} {},{} {},{} {},{}",
                                num(rx),
                                num(y - 6.0),
                                num(rx + 5.0),
                                num(y),
                                num(rx),
                                num(y + 6.0),
                                num(rx - 5.0),
                                num(y)
                            ),
                        ),
                        ("fill", REFERENCE.to_owned()),
                        ("stroke", "#ffffff".to_owned()),
                    ],
                );
            }
            let mut numbers = format!(
                "{} [{}, {}]",
                percent(row.value),
                percent(row.interval.0),
                percent(row.interval.1)
            );
            if let Some(note) = &row.note {
                numbers.push_str(" · ");
                numbers.push_str(note);
            }
            writer.text(
                "text",
                &[
                    ("x", num(right + 10.0)),
                    ("y", num(y + 4.0)),
                    ("fill", INK.to_owned()),
                    ("font-variant-numeric", "tabular-nums".to_owned()),
                ],
                &numbers,
            );
            writer.close();
        }

        if let Some(chance) = self.chance {
            let x = axis.pixel(chance);
            dashed_line(&mut writer, (x, top - 6.0), (x, plot_bottom));
        }
        let legend = format!(
            "Bar and whisker: accuracy and its 95% interval. Black diamond: {}.{}",
            self.reference_name,
            match self.chance {
                Some(chance) => format!(" Dashed line: chance ({}).", percent(chance)),
                None => String::new(),
            }
        );
        caption(&mut writer, 10.0, plot_bottom + 52.0, &wrap(&legend, 110));
        writer.finish(width, height, &self.labels.title)
    }

    fn full_description(&self) -> String {
        let mut text = self.labels.description.clone();
        for row in &self.rows {
            text.push_str(&format!(
                " {}: {} (95% interval {} to {}){}{}.",
                row.label,
                percent(row.value),
                percent(row.interval.0),
                percent(row.interval.1),
                match row.reference {
                    Some(reference) => format!(", {} {}", self.reference_name, percent(reference)),
                    None => String::new(),
                },
                match &row.note {
                    Some(note) => format!(", {note}"),
                    None => String::new(),
                }
            ));
        }
        text
    }
}
