//! A subrequest's answer read as text by the runtime in one go.
//!
//! `worker::Response::text` pulls a body through a stream reader, chunk by chunk across wasm. In
//! a CPU profile of the shop under the events load, that reader's `read`, `releaseLock` and the
//! microtasks they cost were about a tenth of the isolate's time; `Response.text()` does the
//! same work inside the runtime.

use worker::wasm_bindgen_futures::JsFuture;
use worker::{Result, web_sys};

/// The body of `response` as text. Its stream goes into a new runtime `Response` of the default
/// status: converting the whole `worker::Response` back would carry its status over, and the
/// runtime refuses (and `worker` panics on) one outside 200–599, which a service may answer.
#[cfg(feature = "shop")]
pub async fn text(response: worker::Response) -> Result<String> {
    match response.body() {
        worker::ResponseBody::Stream(stream) => {
            runtime_text(&web_sys::Response::new_with_opt_readable_stream(Some(stream))?).await
        }
        worker::ResponseBody::Body(bytes) => String::from_utf8(bytes.clone())
            .map_err(|_| worker::Error::RustError("an answer's body that is not UTF-8".into())),
        worker::ResponseBody::Empty => Ok(String::new()),
    }
}

/// The body of the runtime's own `response` as text.
pub async fn runtime_text(response: &web_sys::Response) -> Result<String> {
    let text = JsFuture::from(response.text()?).await?;
    text.as_string()
        .ok_or_else(|| worker::Error::RustError("an answer's body that is not text".into()))
}
