//! Poser Lab's charts: plain data in, SVG text out.
//!
//! Every chart is a pure function of its input: the same data (and seed, for jittered points)
//! gives the same bytes, so the page, the HTML report export and the snapshot tests all draw the
//! same picture. Each SVG carries a `<title>` and a `<desc>` that say in words what it shows,
//! names its axes with units, and draws aligned models and fakers in the same colours as the
//! playground, with shapes and fills that also tell them apart in greyscale
//! ([`palette`]). Nothing here knows about models, burn or leptos.
//!
//! - [`violin`]: per-model scores of two or more groups, as kernel densities with quartiles and
//!   every point;
//! - [`interval_bars`]: accuracies with 95% intervals, a reference mark and the chance line;
//! - [`lines`]: values per step or per hook point, with interval bands;
//! - [`heatmap`]: rows × columns of values with a legend;
//! - [`stats`], [`scale`], [`palette`], [`svg`]: what they share.

pub mod heatmap;
pub mod interval_bars;
pub mod lines;
pub mod palette;
pub mod scale;
pub mod stats;
pub mod svg;
pub mod tokens;
pub mod violin;

pub use palette::Role;

/// A drawn chart: the SVG document and its size in CSS pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// The whole `<svg>` element, with `xmlns`, so it stands alone as a file.
    pub svg: String,
    /// Width in pixels (also the `viewBox` width).
    pub width: u32,
    /// Height in pixels (also the `viewBox` height).
    pub height: u32,
    /// The chart's `<title>`, for file names and alt text.
    pub title: String,
}

/// What every chart needs to say about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    /// Prefix of the ids inside the SVG (`title`, `desc`, patterns); unique on a page.
    pub id: String,
    /// One line: what the chart is.
    pub title: String,
    /// A few sentences: what it shows and how to read it (screen readers read this).
    pub description: String,
}
