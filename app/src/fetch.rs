//! Fetching files the page needs (manifests, model weights, tokenizers) from its own server,
//! from the page or from its strategy worker.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The server's successful response for `url`, or a message naming the address and what went
/// wrong.
async fn fetch_ok(url: &str) -> Result<web_sys::Response, String> {
    // The page's window, or the strategy worker's global scope.
    let request = match web_sys::window() {
        Some(window) => window.fetch_with_str(url),
        None => js_sys::global()
            .dyn_into::<web_sys::WorkerGlobalScope>()
            .map_err(|_| "neither a page nor a worker can fetch here")?
            .fetch_with_str(url),
    };
    let response = JsFuture::from(request)
        .await
        .map_err(|error| format!("could not fetch {url}: {error:?}"))?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|_| format!("fetching {url} gave something other than a response"))?;
    if !response.ok() {
        return Err(format!(
            "the server answered {} {} for {url}",
            response.status(),
            response.status_text()
        ));
    }
    Ok(response)
}

/// The bytes at `url`, or a message naming the address and what went wrong.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let response = fetch_ok(url).await?;
    let buffer = response
        .array_buffer()
        .map_err(|error| format!("could not read {url}: {error:?}"))?;
    let buffer = JsFuture::from(buffer)
        .await
        .map_err(|error| format!("reading {url} stopped: {error:?}"))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The text at `url` (UTF-8).
pub async fn fetch_text(url: &str) -> Result<String, String> {
    let bytes = fetch_bytes(url).await?;
    String::from_utf8(bytes).map_err(|_| format!("{url} is not UTF-8 text"))
}

/// The bytes at `url`, read as they arrive: `progress(loaded)` after each chunk, so a long
/// download can show how far it is.
pub async fn fetch_bytes_with_progress(
    url: &str,
    mut progress: impl FnMut(u64),
) -> Result<Vec<u8>, String> {
    let response = fetch_ok(url).await?;
    let Some(body) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|error| format!("reading {url} stopped: {error:?}"))?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|value| value.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        let value = js_sys::Reflect::get(&chunk, &"value".into())
            .map_err(|error| format!("reading {url} stopped: {error:?}"))?;
        bytes.extend(js_sys::Uint8Array::new(&value).to_vec());
        progress(bytes.len() as u64);
    }
    Ok(bytes)
}
