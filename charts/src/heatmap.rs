//! Heatmaps: rows × columns of values, each cell coloured and labelled with its value, and a
//! legend of the colour scale. Cell text is black or white, whichever contrasts more (always
//! ≥ 4.5:1), so the numbers stay readable where the colours do not.

use crate::palette::{INK, Ramp};
use crate::scale::format_value;
use crate::svg::{SvgWriter, caption, heading, num, ramp_legend, wrap};
use crate::{Chart, Labels};

/// How cell values read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellFormat {
    /// Fractions as whole percentages.
    Percent,
    /// Plain values.
    Value,
}

/// A heatmap.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// Id, title and description.
    pub labels: Labels,
    /// Row names, top to bottom.
    pub rows: Vec<String>,
    /// Column names, left to right.
    pub columns: Vec<String>,
    /// `values[row][column]`; `None` is drawn as an empty cell.
    pub values: Vec<Vec<Option<f64>>>,
    /// The values at the ramp's two ends.
    pub domain: (f64, f64),
    /// The colours.
    pub ramp: Ramp,
    /// How cells read.
    pub format: CellFormat,
    /// The legend's name for the values, with the unit.
    pub legend_label: String,
}

impl Heatmap {
    /// The SVG.
    pub fn draw(&self) -> Chart {
        let label_width = 7.0
            * self
                .rows
                .iter()
                .map(|r| r.chars().count())
                .max()
                .unwrap_or(4) as f64
            + 16.0;
        let left = label_width.clamp(60.0, 260.0);
        let cell_width = 56.0f64.min(((900.0 - left) / self.columns.len().max(1) as f64).max(30.0));
        let cell_height = 24.0;
        let column_label_height = 7.0
            * self
                .columns
                .iter()
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(4) as f64
            * 0.72
            + 16.0;
        let top = 32.0 + column_label_height;
        let grid_bottom = top + cell_height * self.rows.len() as f64;
        let width = (left + cell_width * self.columns.len() as f64 + 20.0)
            .max(420.0)
            .ceil() as u32;
        let height = (grid_bottom + 92.0).ceil() as u32;
        let format = |value: f64| match self.format {
            CellFormat::Percent => format!("{:.0}", value * 100.0),
            CellFormat::Value => format_value(value),
        };
        let labels = Labels {
            description: self.full_description(&format),
            ..self.labels.clone()
        };
        let mut writer = SvgWriter::new(width, height, &labels);
        heading(&mut writer, 10.0, &self.labels.title);

        // Column names, slanted so that long family names fit.
        for (index, column) in self.columns.iter().enumerate() {
            let x = left + cell_width * (index as f64 + 0.5);
            let y = top - 6.0;
            writer.text(
                "text",
                &[
                    ("x", num(x)),
                    ("y", num(y)),
                    ("transform", format!("rotate(-45 {} {})", num(x), num(y))),
                    ("fill", INK.to_owned()),
                    ("font-size", "11".to_owned()),
                ],
                column,
            );
        }
        for (row_index, row) in self.rows.iter().enumerate() {
            let y = top + cell_height * row_index as f64;
            writer.text(
                "text",
                &[
                    ("x", num(left - 6.0)),
                    ("y", num(y + cell_height / 2.0 + 4.0)),
                    ("text-anchor", "end".to_owned()),
                    ("fill", INK.to_owned()),
                ],
                row,
            );
            for column_index in 0..self.columns.len() {
                let x = left + cell_width * column_index as f64;
                let value = self
                    .values
                    .get(row_index)
                    .and_then(|values| values.get(column_index))
                    .copied()
                    .flatten()
                    .filter(|v| v.is_finite());
                let Some(value) = value else {
                    writer.leaf(
                        "rect",
                        &[
                            ("x", num(x)),
                            ("y", num(y)),
                            ("width", num(cell_width)),
                            ("height", num(cell_height)),
                            ("fill", "#ffffff".to_owned()),
                            ("stroke", crate::palette::GRID.to_owned()),
                        ],
                    );
                    continue;
                };
                let t = (value - self.domain.0) / (self.domain.1 - self.domain.0);
                let background = self.ramp.at(t);
                writer.leaf(
                    "rect",
                    &[
                        ("x", num(x)),
                        ("y", num(y)),
                        ("width", num(cell_width)),
                        ("height", num(cell_height)),
                        ("fill", background.hex()),
                        ("stroke", "#ffffff".to_owned()),
                        ("data-value", format!("{value:.6}")),
                    ],
                );
                writer.text(
                    "text",
                    &[
                        ("x", num(x + cell_width / 2.0)),
                        ("y", num(y + cell_height / 2.0 + 4.0)),
                        ("text-anchor", "middle".to_owned()),
                        ("fill", background.readable_text().hex()),
                        ("font-size", "11".to_owned()),
                    ],
                    &format(value),
                );
            }
        }

        // The legend: the ramp in ten steps with the domain's ends.
        let legend_y = grid_bottom + 18.0;
        ramp_legend(
            &mut writer,
            self.ramp,
            (left, legend_y),
            [&format(self.domain.0), &format(self.domain.1)],
            &self.legend_label,
        );
        let note = "Each cell shows its value; empty cells have none.";
        caption(&mut writer, 10.0, legend_y + 46.0, &wrap(note, 100));
        writer.finish(width, height, &self.labels.title)
    }

    fn full_description(&self, format: &dyn Fn(f64) -> String) -> String {
        let mut text = self.labels.description.clone();
        for (row, values) in self.rows.iter().zip(&self.values) {
            let cells: Vec<String> = self
                .columns
                .iter()
                .zip(values)
                .map(|(column, value)| match value {
                    Some(value) => format!("{column} {}", format(*value)),
                    None => format!("{column} none"),
                })
                .collect();
            text.push_str(&format!(" {row}: {}.", cells.join(", ")));
        }
        text
    }
}
