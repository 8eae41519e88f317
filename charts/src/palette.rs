//! Colours, shapes and contrast.
//!
//! Aligned and faker colours follow the Okabe–Ito palette (readable with every common colour
//! vision deficiency): blue `#0072b2`, and its vermillion darkened from `#d55e00` to `#b85000`,
//! so that both reach WCAG AA (≥ 4.5:1) as text on white and on the page's panel grey. In
//! greyscale the two have about the same lightness, so a chart never tells them apart by colour
//! alone: aligned marks are circles with solid fills, faker marks are triangles with hatched
//! fills, and every group is labelled in words.

/// Body text.
pub const INK: &str = "#1b1f24";
/// Secondary text, axes and grid labels (6.4:1 on white).
pub const MUTED: &str = "#57606a";
/// Grid lines.
pub const GRID: &str = "#d0d7de";
/// Aligned models (Okabe–Ito blue; 5.2:1 on white).
pub const ALIGNED: &str = "#0072b2";
/// Fakers (Okabe–Ito vermillion, darkened; 5.0:1 on white).
pub const FAKER: &str = "#b85000";
/// Reference marks (the paper's numbers).
pub const REFERENCE: &str = "#000000";

/// Which class a group or series stands for; decides colour, mark and fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Aligned models: blue circles, solid fills.
    Aligned,
    /// Alignment fakers: vermillion triangles, hatched fills.
    Faker,
    /// Neither (a strategy, a family): the n-th colour of [`SERIES`], with its own dash.
    Series(usize),
}

/// Colours for series that are not a class (Okabe–Ito, darkened where needed for 4.5:1 on
/// white): black, blue, vermillion, bluish green, reddish purple, sky blue, orange, yellow.
pub const SERIES: [&str; 8] = [
    "#000000", "#0072b2", "#b85000", "#007a5a", "#a8427e", "#2f6f99", "#9a6700", "#6b6b00",
];

/// Dash patterns that go with [`SERIES`], so lines differ in greyscale too.
const DASHES: [&str; 8] = ["", "6 3", "2 2", "8 3 2 3", "1 3", "10 4", "4 2 1 2", "3 5"];

impl Role {
    /// The stroke and mark colour.
    pub fn colour(self) -> &'static str {
        match self {
            Role::Aligned => ALIGNED,
            Role::Faker => FAKER,
            Role::Series(index) => SERIES[index % SERIES.len()],
        }
    }

    /// A light tint for areas (violins, bands).
    pub fn tint(self) -> &'static str {
        match self {
            Role::Aligned => "#cce3f0",
            Role::Faker => "#f3d9c6",
            Role::Series(_) => "#e6e6e6",
        }
    }

    /// `stroke-dasharray`, empty for a solid line.
    pub fn dash(self) -> &'static str {
        match self {
            Role::Aligned => "",
            Role::Faker => "6 3",
            Role::Series(index) => DASHES[index % DASHES.len()],
        }
    }

    /// Words for legends.
    pub fn noun(self) -> &'static str {
        match self {
            Role::Aligned => "aligned",
            Role::Faker => "faker",
            Role::Series(_) => "series",
        }
    }
}

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// WCAG 2 relative luminance.
    pub fn luminance(self) -> f64 {
        let channel = |value: u8| {
            let c = f64::from(value) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(self.0) + 0.7152 * channel(self.1) + 0.0722 * channel(self.2)
    }

    /// WCAG 2 contrast ratio with another colour (1 to 21).
    pub fn contrast(self, other: Rgb) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// Black or white, whichever contrasts more with this colour as a background. One of them
    /// always reaches 4.58:1 or more (they cross at a luminance of about 0.18).
    pub fn readable_text(self) -> Rgb {
        let (black, white) = (Rgb(0, 0, 0), Rgb(255, 255, 255));
        if self.contrast(black) >= self.contrast(white) {
            black
        } else {
            white
        }
    }

    fn mix(self, other: Rgb, t: f64) -> Rgb {
        let channel = |a: u8, b: u8| {
            (f64::from(a) + (f64::from(b) - f64::from(a)) * t)
                .round()
                .clamp(0.0, 255.0) as u8
        };
        Rgb(
            channel(self.0, other.0),
            channel(self.1, other.1),
            channel(self.2, other.2),
        )
    }
}

/// A colour ramp: stops at evenly spaced positions in [0, 1], mixed linearly between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ramp(pub &'static [Rgb]);

/// Sequential single-hue blues (ColorBrewer's Blues end points), light to dark: lightness
/// carries the value, so it reads in greyscale and with any colour vision.
pub const BLUES: Ramp = Ramp(&[Rgb(247, 251, 255), Rgb(107, 174, 214), Rgb(8, 48, 107)]);

/// Diverging orange–white–blue (ColorBrewer's PuOr-like end points, colour-blind safe): below
/// the centre orange, above it blue.
pub const ORANGE_BLUE: Ramp = Ramp(&[
    Rgb(179, 88, 6),
    Rgb(253, 184, 99),
    Rgb(247, 247, 247),
    Rgb(146, 197, 222),
    Rgb(33, 102, 172),
]);

impl Ramp {
    /// The colour at `t` (clamped to [0, 1]).
    pub fn at(self, t: f64) -> Rgb {
        let stops = self.0;
        let Some(&first) = stops.first() else {
            return Rgb(0, 0, 0);
        };
        if stops.len() == 1 || !t.is_finite() {
            return first;
        }
        let scaled = t.clamp(0.0, 1.0) * (stops.len() - 1) as f64;
        let index = (scaled.floor() as usize).min(stops.len() - 2);
        stops[index].mix(stops[index + 1], scaled - index as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(hex: &str) -> Rgb {
        let value = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).unwrap();
        Rgb(value(1), value(3), value(5))
    }

    #[test]
    fn class_colours_reach_aa_on_white_and_on_the_panel() {
        let white = Rgb(255, 255, 255);
        let panel = Rgb(0xf6, 0xf8, 0xfa);
        for colour in [ALIGNED, FAKER, MUTED, INK].into_iter().chain(SERIES) {
            let rgb = parse(colour);
            assert!(
                rgb.contrast(white) >= 4.5,
                "{colour} on white: {}",
                rgb.contrast(white)
            );
            assert!(
                rgb.contrast(panel) >= 4.5,
                "{colour} on the panel: {}",
                rgb.contrast(panel)
            );
        }
    }

    #[test]
    fn text_on_every_ramp_colour_reaches_aa() {
        for ramp in [BLUES, ORANGE_BLUE] {
            for step in 0..=1000 {
                let background = ramp.at(f64::from(step) / 1000.0);
                let text = background.readable_text();
                assert!(
                    background.contrast(text) >= 4.5,
                    "{} on {}: {}",
                    text.hex(),
                    background.hex(),
                    background.contrast(text)
                );
            }
        }
    }

    #[test]
    fn ramps_hit_their_end_stops() {
        assert_eq!(BLUES.at(0.0), Rgb(247, 251, 255));
        assert_eq!(BLUES.at(1.0), Rgb(8, 48, 107));
        assert_eq!(BLUES.at(0.5), Rgb(107, 174, 214));
        assert_eq!(ORANGE_BLUE.at(0.5), Rgb(247, 247, 247));
    }
}
