//! The committed report's files the benchmark and results pages read: the report's summary
//! (`poser report summary`) and the curation summary (`poser zoo curate`). Never the full report,
//! which is 9.9 MB.

use std::rc::Rc;

use poser_engine::evaluation::summary::ReportSummary;
use poser_engine::zoo::curate::FamilyCuration;

use crate::fetch::fetch_text;

/// The shipped report's summary.
pub const SUMMARY_URL: &str = "/public/reports/zoo-summary.json";
/// The curation of every family.
pub const CURATION_URL: &str = "/public/curated/summary.json";

/// The report summary, or a message saying what is wrong and what to do.
pub async fn load_summary() -> Result<Rc<ReportSummary>, String> {
    let text = fetch_text(SUMMARY_URL).await.map_err(|error| {
        format!(
            "The report's summary is not available: {error}. Make it with `poser report summary` \
             (README, \"The report\") and rebuild the page."
        )
    })?;
    ReportSummary::from_json(&text, SUMMARY_URL)
        .map(Rc::new)
        .map_err(|error| format!("The report's summary cannot be read: {error}"))
}

/// The curation summary of every family.
pub async fn load_curation() -> Result<Vec<FamilyCuration>, String> {
    let text = fetch_text(CURATION_URL).await.map_err(|error| {
        format!(
            "The curated sets' summary is not available: {error}. Make it with `poser zoo \
             curate` and rebuild the page."
        )
    })?;
    serde_json::from_str(&text).map_err(|error| format!("{CURATION_URL} cannot be read: {error}"))
}

/// Milliseconds since the page's navigation started (`performance.now()`).
pub fn since_navigation_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// A date and time (UTC, to the minute) from seconds since the Unix epoch.
pub fn utc_time(unix_s: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_s as f64 * 1000.0));
    let iso = String::from(date.to_iso_string());
    // 2026-12-04T21:26:29.000Z → 2026-12-04 21:26 UTC
    match (iso.get(..10), iso.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => iso,
    }
}
