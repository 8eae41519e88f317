//! Text coloured token by token (the paper's Fig. 9): each prompt's tokens laid out as words in
//! lines, each on a cell whose darkness is its value, with a span underlined (the oversight
//! fact). Cell text is black or white, whichever contrasts more.

use crate::palette::{INK, Ramp};
use crate::scale::format_value;
use crate::svg::{SvgWriter, caption, heading, num, ramp_legend, wrap};
use crate::{Chart, Labels};

/// One prompt, token by token.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenLine {
    /// What the prompt is (the model and the scenario), drawn above it.
    pub title: String,
    /// Each token's text and value.
    pub tokens: Vec<(String, f64)>,
    /// Token positions to underline (the oversight fact), as a half-open range.
    pub marked: std::ops::Range<usize>,
}

/// Several prompts coloured by a per-token value on one scale.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenHeatmap {
    /// Id, title and description.
    pub labels: Labels,
    /// The prompts, top to bottom.
    pub lines: Vec<TokenLine>,
    /// The colours, from zero to the largest value of all prompts.
    pub ramp: Ramp,
    /// The legend's name for the values, with the unit.
    pub legend_label: String,
    /// What the underline marks, for the caption.
    pub marked_name: String,
}

/// Pixels per character of the cell text (11 px sans-serif, generous).
const CHAR_WIDTH: f64 = 6.6;
const ROW_HEIGHT: f64 = 20.0;
const WIDTH: f64 = 760.0;

impl TokenHeatmap {
    /// The SVG.
    pub fn draw(&self) -> Chart {
        let high = self
            .lines
            .iter()
            .flat_map(|line| line.tokens.iter().map(|t| t.1))
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        let scale = if high > 0.0 { high } else { 1.0 };
        // Lay every prompt out first: (x, row, width) per token.
        let (left, right) = (10.0, WIDTH - 10.0);
        let layouts: Vec<Vec<(f64, usize, f64)>> = self
            .lines
            .iter()
            .map(|line| {
                let mut placed = Vec::with_capacity(line.tokens.len());
                let (mut x, mut row) = (left, 0usize);
                for (text, _) in &line.tokens {
                    let width = CHAR_WIDTH * text.chars().count().max(1) as f64 + 6.0;
                    if x + width > right && x > left {
                        x = left;
                        row += 1;
                    }
                    placed.push((x, row, width));
                    x += width + 2.0;
                }
                placed
            })
            .collect();
        let rows_of = |layout: &Vec<(f64, usize, f64)>| layout.last().map_or(1, |t| t.1 + 1);
        let body: f64 = layouts
            .iter()
            .map(|layout| 22.0 + ROW_HEIGHT * rows_of(layout) as f64 + 10.0)
            .sum();
        let top = 34.0;
        let legend_y = top + body + 8.0;
        let note = format!(
            "Darker = larger. The underlined tokens are the {}. Values are scaled to the largest \
             over all prompts shown ({}).",
            self.marked_name,
            format_value(high)
        );
        let note_lines = wrap(&note, 110);
        let height = (legend_y + 40.0 + 14.0 * note_lines.len() as f64).ceil() as u32;
        let width = WIDTH as u32;
        let labels = Labels {
            description: self.full_description(),
            ..self.labels.clone()
        };
        let mut writer = SvgWriter::new(width, height, &labels);
        heading(&mut writer, 10.0, &self.labels.title);
        let mut y = top;
        for (line, layout) in self.lines.iter().zip(&layouts) {
            writer.text(
                "text",
                &[
                    ("x", num(left)),
                    ("y", num(y + 12.0)),
                    ("fill", INK.to_owned()),
                    ("font-size", "12".to_owned()),
                    ("font-weight", "600".to_owned()),
                ],
                &line.title,
            );
            let row_top = y + 20.0;
            for (index, ((text, value), &(x, row, cell_width))) in
                line.tokens.iter().zip(layout).enumerate()
            {
                let cell_y = row_top + ROW_HEIGHT * row as f64;
                let t = if value.is_finite() {
                    value / scale
                } else {
                    0.0
                };
                let background = self.ramp.at(t);
                writer.leaf(
                    "rect",
                    &[
                        ("x", num(x)),
                        ("y", num(cell_y)),
                        ("width", num(cell_width)),
                        ("height", num(ROW_HEIGHT - 3.0)),
                        ("fill", background.hex()),
                        ("data-value", format!("{value:.6}")),
                    ],
                );
                writer.text(
                    "text",
                    &[
                        ("x", num(x + 3.0)),
                        ("y", num(cell_y + 12.5)),
                        ("fill", background.readable_text().hex()),
                        ("font-size", "11".to_owned()),
                    ],
                    text,
                );
                if line.marked.contains(&index) {
                    writer.leaf(
                        "line",
                        &[
                            ("x1", num(x)),
                            ("x2", num(x + cell_width + 2.0)),
                            ("y1", num(cell_y + ROW_HEIGHT - 1.5)),
                            ("y2", num(cell_y + ROW_HEIGHT - 1.5)),
                            ("stroke", INK.to_owned()),
                            ("stroke-width", "2".to_owned()),
                        ],
                    );
                }
            }
            y = row_top + ROW_HEIGHT * rows_of(layout) as f64 + 10.0;
        }
        // The legend: the ramp in ten steps, zero to the largest value.
        ramp_legend(
            &mut writer,
            self.ramp,
            (left, legend_y),
            ["0", &format_value(high)],
            &self.legend_label,
        );
        caption(&mut writer, left, legend_y + 40.0, &note_lines);
        writer.finish(width, height, &self.labels.title)
    }

    /// The description, with each prompt's five largest tokens for readers who cannot see it.
    fn full_description(&self) -> String {
        let mut text = self.labels.description.clone();
        for line in &self.lines {
            let mut ranked: Vec<&(String, f64)> = line.tokens.iter().collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            let top: Vec<String> = ranked
                .iter()
                .take(5)
                .map(|(token, value)| format!("{token} {}", format_value(*value)))
                .collect();
            text.push_str(&format!(" {}: largest {}.", line.title, top.join(", ")));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::palette::BLUES;

    fn chart(tokens: usize) -> TokenHeatmap {
        TokenHeatmap {
            labels: Labels {
                id: "t".to_owned(),
                title: "Saliency".to_owned(),
                description: "Tokens.".to_owned(),
            },
            lines: vec![TokenLine {
                title: "model on scenario 1".to_owned(),
                tokens: (0..tokens).map(|i| (format!("w<{i}>"), i as f64)).collect(),
                marked: 2..4,
            }],
            ramp: BLUES,
            legend_label: "‖gradient‖".to_owned(),
            marked_name: "oversight fact".to_owned(),
        }
    }

    #[test]
    fn every_token_gets_a_cell_escaped_and_long_prompts_wrap() {
        let short = chart(3).draw();
        let long = chart(200).draw();
        assert_eq!(
            long.svg.matches("data-value=").count(),
            200,
            "a cell per token"
        );
        assert!(
            long.height > short.height + 100,
            "200 tokens wrap onto more rows"
        );
        assert!(long.svg.contains("w&lt;7&gt;"), "token text is escaped");
        assert!(!long.svg.contains("w<7>"));
        assert_eq!(
            long.svg.matches("<line").count(),
            2,
            "the marked span is underlined"
        );
        assert!(
            long.svg.contains("largest w&lt;199&gt;"),
            "the description names the largest token"
        );
    }
}
