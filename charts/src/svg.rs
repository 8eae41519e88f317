//! A small SVG writer: elements, escaped text and byte-stable numbers.
//!
//! Hand-written rather than a crate: the two things a chart's bytes depend on, number
//! formatting and attribute order, are ours to fix either way, and escaping is five
//! characters.

use std::fmt::Write;

use crate::{Chart, Labels};

/// Text with `&`, `<`, `>`, `"` and `'` escaped, safe in element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0 text.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// A coordinate or length with at most two decimals, no trailing zeros and no `-0`.
pub fn num(value: f64) -> String {
    if !value.is_finite() {
        return "0".to_owned();
    }
    let mut text = format!("{:.2}", value);
    if text.contains('.') {
        while text.ends_with('0') {
            text.pop();
        }
        if text.ends_with('.') {
            text.pop();
        }
    }
    if text == "-0" { "0".to_owned() } else { text }
}

/// Builds one SVG document.
pub struct SvgWriter {
    out: String,
    open: Vec<&'static str>,
}

impl SvgWriter {
    /// Starts an `<svg>` of the given size with its `<title>`, `<desc>` and shared styles.
    pub fn new(width: u32, height: u32, labels: &Labels) -> Self {
        let id = escape(&labels.id);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" \
             font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\" font-size=\"12\">"
        );
        let _ = write!(
            out,
            "<title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>\n",
            escape(&labels.title),
            escape(&labels.description)
        );
        // An opaque background, so that a downloaded file reads on any viewer.
        let _ = writeln!(
            out,
            "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
        );
        Self {
            out,
            open: vec!["svg"],
        }
    }

    /// Opens `<tag attrs…>`; [`SvgWriter::close`] ends it.
    pub fn open(&mut self, tag: &'static str, attributes: &[(&str, String)]) {
        self.start_tag(tag, attributes);
        self.out.push_str(">\n");
        self.open.push(tag);
    }

    /// Closes the innermost open element.
    pub fn close(&mut self) {
        if let Some(tag) = self.open.pop() {
            let _ = writeln!(self.out, "</{tag}>");
        }
    }

    /// `<tag attrs…/>`.
    pub fn leaf(&mut self, tag: &'static str, attributes: &[(&str, String)]) {
        self.start_tag(tag, attributes);
        self.out.push_str("/>\n");
    }

    /// `<tag attrs…>text</tag>`, the text escaped.
    pub fn text(&mut self, tag: &'static str, attributes: &[(&str, String)], text: &str) {
        self.start_tag(tag, attributes);
        let _ = writeln!(self.out, ">{}</{tag}>", escape(text));
    }

    /// Text in the chart's muted colour, anchored as asked (`start`, `middle`, `end`).
    pub fn label(&mut self, x: f64, y: f64, anchor: &str, text: &str) {
        self.text(
            "text",
            &[
                ("x", num(x)),
                ("y", num(y)),
                ("text-anchor", anchor.to_owned()),
                ("fill", crate::palette::INK.to_owned()),
            ],
            text,
        );
    }

    fn start_tag(&mut self, tag: &str, attributes: &[(&str, String)]) {
        let _ = write!(self.out, "<{tag}");
        for (name, value) in attributes {
            let _ = write!(self.out, " {name}=\"{}\"", escape(value));
        }
    }

    /// Closes every open element and returns the chart.
    pub fn finish(mut self, width: u32, height: u32, title: &str) -> Chart {
        while !self.open.is_empty() {
            self.close();
        }
        Chart {
            svg: self.out,
            width,
            height,
            title: title.to_owned(),
        }
    }
}

/// A dashed reference line (chance, a paper's number) in the ink colour.
pub fn dashed_line(writer: &mut SvgWriter, from: (f64, f64), to: (f64, f64)) {
    writer.leaf(
        "line",
        &[
            ("x1", num(from.0)),
            ("x2", num(to.0)),
            ("y1", num(from.1)),
            ("y2", num(to.1)),
            ("stroke", crate::palette::INK.to_owned()),
            ("stroke-dasharray", "4 3".to_owned()),
        ],
    );
}

/// A path's `d` through the points, as straight segments.
pub fn polyline(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (index, (x, y)) in points.iter().enumerate() {
        let _ = write!(
            d,
            "{}{},{}",
            if index == 0 { "M" } else { " L" },
            num(*x),
            num(*y)
        );
    }
    d
}

/// Splits text into lines of at most `width` characters at spaces (a longer word stands alone).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The chart's visible heading (the same words as its `<title>`), top left.
pub fn heading(writer: &mut SvgWriter, x: f64, title: &str) {
    writer.text(
        "text",
        &[
            ("x", num(x)),
            ("y", "20".to_owned()),
            ("font-size", "14".to_owned()),
            ("font-weight", "600".to_owned()),
            ("fill", crate::palette::INK.to_owned()),
        ],
        title,
    );
}

/// A colour ramp's legend at `(x, y)`: the ramp in ten 18-pixel steps, its two ends' values
/// below it, and its name to the right (heatmaps, token heatmaps).
pub fn ramp_legend(
    writer: &mut SvgWriter,
    ramp: crate::palette::Ramp,
    (x, y): (f64, f64),
    [low, high]: [&str; 2],
    name: &str,
) {
    let steps = 10;
    for step in 0..steps {
        let t = (f64::from(step) + 0.5) / f64::from(steps);
        writer.leaf(
            "rect",
            &[
                ("x", num(x + 18.0 * f64::from(step))),
                ("y", num(y)),
                ("width", "18".to_owned()),
                ("height", "10".to_owned()),
                ("fill", ramp.at(t).hex()),
            ],
        );
    }
    let end = x + 18.0 * f64::from(steps);
    for (at, anchor, text) in [(x, "start", low), (end, "end", high)] {
        writer.text(
            "text",
            &[
                ("x", num(at)),
                ("y", num(y + 24.0)),
                ("text-anchor", anchor.to_owned()),
                ("fill", crate::palette::MUTED.to_owned()),
            ],
            text,
        );
    }
    writer.label(end + 10.0, y + 9.0, "start", name);
}

/// Caption lines (muted, small) starting at `y`, one every 14 pixels.
pub fn caption(writer: &mut SvgWriter, x: f64, y: f64, lines: &[String]) {
    for (index, line) in lines.iter().enumerate() {
        writer.text(
            "text",
            &[
                ("x", num(x)),
                ("y", num(y + 14.0 * index as f64)),
                ("font-size", "11".to_owned()),
                ("fill", crate::palette::MUTED.to_owned()),
            ],
            line,
        );
    }
}

/// A vertical value axis at `x`: grid lines across to `right`, tick labels, and the axis'
/// name rotated along it.
pub fn value_axis(
    writer: &mut SvgWriter,
    axis: &crate::scale::Axis,
    x: f64,
    right: f64,
    name: &str,
    format: impl Fn(f64) -> String,
) {
    let (low, high) = axis.transformed_domain();
    let (top, bottom) = (
        axis.pixel_of_transformed(high),
        axis.pixel_of_transformed(low),
    );
    writer.open("g", &[("class", "axis".to_owned())]);
    for tick in axis.ticks() {
        let y = axis.pixel(tick);
        writer.leaf(
            "line",
            &[
                ("x1", num(x)),
                ("x2", num(right)),
                ("y1", num(y)),
                ("y2", num(y)),
                ("stroke", crate::palette::GRID.to_owned()),
            ],
        );
        writer.text(
            "text",
            &[
                ("x", num(x - 6.0)),
                ("y", num(y + 4.0)),
                ("text-anchor", "end".to_owned()),
                ("fill", crate::palette::MUTED.to_owned()),
            ],
            &format(tick),
        );
    }
    writer.leaf(
        "line",
        &[
            ("x1", num(x)),
            ("x2", num(x)),
            ("y1", num(top)),
            ("y2", num(bottom)),
            ("stroke", crate::palette::MUTED.to_owned()),
        ],
    );
    let middle = (top + bottom) / 2.0;
    writer.text(
        "text",
        &[
            ("x", "14".to_owned()),
            ("y", num(middle)),
            ("text-anchor", "middle".to_owned()),
            ("transform", format!("rotate(-90 14 {})", num(middle))),
            ("fill", crate::palette::INK.to_owned()),
        ],
        name,
    );
    writer.close();
}

/// A mark for one point: a circle for aligned models, a triangle for fakers, a square
/// otherwise, so that classes differ by shape as well as colour.
pub fn mark(
    writer: &mut SvgWriter,
    role: crate::Role,
    x: f64,
    y: f64,
    size: f64,
    extra: &[(&str, String)],
) {
    let colour = role.colour().to_owned();
    let mut attributes: Vec<(&str, String)> = Vec::new();
    let tag = match role {
        crate::Role::Aligned => {
            attributes.extend([("cx", num(x)), ("cy", num(y)), ("r", num(size))]);
            "circle"
        }
        crate::Role::Faker => {
            let h = size * 1.25;
            attributes.push((
                "points",
                format!(
                    "{},{} {},{} {},{}",
                    num(x),
                    num(y - h),
                    num(x - h),
                    num(y + h * 0.8),
                    num(x + h),
                    num(y + h * 0.8)
                ),
            ));
            "polygon"
        }
        crate::Role::Series(_) => {
            attributes.extend([
                ("x", num(x - size)),
                ("y", num(y - size)),
                ("width", num(size * 2.0)),
                ("height", num(size * 2.0)),
            ]);
            "rect"
        }
    };
    attributes.push(("fill", colour));
    attributes.extend(extra.iter().cloned());
    writer.leaf(tag, &attributes);
}

/// The `<defs>` every chart may use: a hatch pattern per class, for fills that differ in
/// greyscale.
pub fn hatch_defs(writer: &mut SvgWriter, id: &str) {
    writer.open("defs", &[]);
    writer.open(
        "pattern",
        &[
            ("id", format!("{id}-hatch")),
            ("width", "6".to_owned()),
            ("height", "6".to_owned()),
            ("patternUnits", "userSpaceOnUse".to_owned()),
            ("patternTransform", "rotate(45)".to_owned()),
        ],
    );
    writer.leaf(
        "rect",
        &[
            ("width", "6".to_owned()),
            ("height", "6".to_owned()),
            ("fill", crate::Role::Faker.tint().to_owned()),
        ],
    );
    writer.leaf(
        "line",
        &[
            ("x1", "0".to_owned()),
            ("y1", "0".to_owned()),
            ("x2", "0".to_owned()),
            ("y2", "6".to_owned()),
            ("stroke", crate::palette::FAKER.to_owned()),
            ("stroke-width", "1.5".to_owned()),
            ("stroke-opacity", "0.55".to_owned()),
        ],
    );
    writer.close();
    writer.close();
}

/// The area fill of a role: a hatch for fakers (see [`hatch_defs`]), a tint otherwise.
pub fn area_fill(role: crate::Role, id: &str) -> String {
    match role {
        crate::Role::Faker => format!("url(#{id}-hatch)"),
        other => other.tint().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.50), "1.5");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(12.346), "12.35");
        assert_eq!(num(f64::NAN), "0");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<b>\"a\" & 'b'</b>"),
            "&lt;b&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/b&gt;"
        );
    }
}
