//! A chart on the page: its SVG (drawn by `poser-charts`), with **Download SVG** and **Download
//! PNG** buttons. Both files are made in the browser; nothing is sent anywhere.

use leptos::prelude::*;
use leptos::task::spawn_local;
use poser_charts::Chart;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A chart with its download buttons. The SVG text comes from `poser-charts`, which escapes
/// every piece of text it draws, so it is inserted as markup; nothing imported reaches it
/// unescaped.
#[component]
pub fn ChartFrame(chart: Chart) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let file_stem = slug(&chart.title);
    let svg_chart = chart.clone();
    let png_chart = chart.clone();
    let stem_svg = file_stem.clone();
    let download_svg = move |_| {
        if let Err(message) = download_bytes(
            svg_chart.svg.as_bytes(),
            "image/svg+xml",
            &format!("{stem_svg}.svg"),
        ) {
            error.set(Some(message));
        }
    };
    let download_png = move |_| {
        let chart = png_chart.clone();
        let name = format!("{file_stem}.png");
        spawn_local(async move {
            if let Err(message) = download_png_of(&chart, &name).await {
                error.set(Some(message));
            }
        });
    };
    view! {
        <figure
            class="chart"
            data-testid="chart"
            data-title=chart.title.clone()
            data-width=chart.width
            data-height=chart.height
        >
            <div class="chart-svg" inner_html=chart.svg.clone()></div>
            <figcaption class="chart-actions">
                <button type="button" data-testid="download-svg" on:click=download_svg>
                    "Download SVG"
                </button>
                <button type="button" data-testid="download-png" on:click=download_png>
                    "Download PNG"
                </button>
                {move || error.get().map(|message| view! {
                    <span class="notice notice-error" role="alert">{message}</span>
                })}
            </figcaption>
        </figure>
    }
}

/// A file name from a title: lowercase letters, digits and dashes.
fn slug(title: &str) -> String {
    let mut out = String::new();
    for character in title.chars() {
        if character.is_ascii_alphanumeric() {
            out.push(character.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "chart".to_owned()
    } else {
        trimmed.chars().take(80).collect()
    }
}

fn js_error(what: &str, error: JsValue) -> String {
    let detail = error
        .as_string()
        .or_else(|| {
            error
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "no details".to_owned());
    format!("{what}: {detail}; try again, or use the other format")
}

/// Saves `bytes` as a file through a temporary object URL and a clicked link.
pub fn download_bytes(bytes: &[u8], mime: &str, name: &str) -> Result<(), String> {
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|e| js_error("could not make the file", e))?;
    download_blob(&blob, name)
}

fn download_blob(blob: &web_sys::Blob, name: &str) -> Result<(), String> {
    let url = web_sys::Url::create_object_url_with_blob(blob)
        .map_err(|e| js_error("could not make the file", e))?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("the page has no document")?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|e| js_error("could not start the download", e))?
        .unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // Some browsers read the URL after the click returns: release it a little later.
    let release = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(window) = web_sys::window() {
        let _ = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(release.unchecked_ref(), 10_000);
    }
    Ok(())
}

/// Rasterises the chart at its own size on a canvas and saves it as PNG.
async fn download_png_of(chart: &Chart, name: &str) -> Result<(), String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("the page has no document")?;
    let image: web_sys::HtmlImageElement = document
        .create_element("img")
        .map_err(|e| js_error("could not draw the chart", e))?
        .unchecked_into();
    image.set_width(chart.width);
    image.set_height(chart.height);
    // A data URL keeps the canvas readable (same origin) and sends nothing anywhere.
    let encoded = String::from(js_sys::encode_uri_component(&chart.svg));
    image.set_src(&format!("data:image/svg+xml;charset=utf-8,{encoded}"));
    JsFuture::from(image.decode())
        .await
        .map_err(|e| js_error("the browser could not read the chart as an image", e))?;
    let canvas: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(|e| js_error("could not draw the chart", e))?
        .unchecked_into();
    canvas.set_width(chart.width);
    canvas.set_height(chart.height);
    let context: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(|e| js_error("could not draw the chart", e))?
        .ok_or("this browser gives no 2D canvas")?
        .unchecked_into();
    context
        .draw_image_with_html_image_element_and_dw_and_dh(
            &image,
            0.0,
            0.0,
            f64::from(chart.width),
            f64::from(chart.height),
        )
        .map_err(|e| js_error("could not draw the chart", e))?;
    let blob = JsFuture::from(js_sys::Promise::new(&mut |resolve, reject| {
        if let Err(error) = canvas.to_blob_with_type(&resolve, "image/png") {
            let _ = reject.call1(&JsValue::NULL, &error);
        }
    }))
    .await
    .map_err(|e| js_error("could not encode the PNG", e))?;
    let blob: web_sys::Blob = blob
        .dyn_into()
        .map_err(|_| "the browser made no PNG of the chart".to_owned())?;
    download_blob(&blob, name)
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn file_names_are_plain() {
        assert_eq!(
            slug("Pair accuracy: S2 (intoxicate) vs paper"),
            "pair-accuracy-s2-intoxicate-vs-paper"
        );
        assert_eq!(slug("§§"), "chart");
    }
}
