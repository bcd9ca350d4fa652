//! Web Locks (`navigator.locks`), which say which live page owns a tab's telemetry outbox: the
//! page holds its outbox's lock, so another page takes that outbox over only when the lock is
//! free, that is when its page is gone. `web-sys` has the API only behind
//! `web_sys_unstable_apis`, so the two calls used are bound here.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Window};

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks`.
    type LockManager;

    /// `locks.request(name, options, callback)`: the lock is held until the promise the
    /// callback returns settles.
    #[wasm_bindgen(method, catch)]
    fn request(this: &LockManager, name: &str, options: &Object, callback: &Function) -> Result<Promise, JsValue>;
}

/// A lock this page holds, until the guard is dropped or the page goes. Without Web Locks
/// (older browsers, pages that are not a secure context) there is nothing to hold, and every
/// lock is "acquired": callers must stay correct when two pages own the same thing.
pub struct LockGuard {
    release: Option<Function>,
}

impl LockGuard {
    /// Whether this guard holds a real lock (false where the browser has no Web Locks).
    pub fn is_held(&self) -> bool {
        self.release.is_some()
    }
}

/// Dropping the guard releases the lock.
impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

/// Acquires the lock `name` for this page: at once or not at all (`wait_ms: None`, `ifAvailable`),
/// or waiting at most `wait_ms` for its holder to let go. `None`: another page holds it.
pub async fn acquire(window: &Window, name: &str, wait_ms: Option<i32>) -> Option<LockGuard> {
    let Some(locks) = Reflect::get(&window.navigator(), &JsValue::from_str("locks"))
        .ok()
        .filter(JsValue::is_object)
    else {
        return Some(LockGuard { release: None });
    };
    let locks: LockManager = locks.unchecked_into();
    let options = Object::new();
    let mut abort_timer = None;
    match wait_ms {
        None => {
            Reflect::set(&options, &JsValue::from_str("ifAvailable"), &JsValue::TRUE).ok()?;
        }
        Some(wait_ms) => {
            let controller = AbortController::new().ok()?;
            Reflect::set(&options, &JsValue::from_str("signal"), &controller.signal()).ok()?;
            let abort = Closure::once_into_js(move || controller.abort());
            abort_timer = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(abort.unchecked_ref(), wait_ms)
                .ok();
        }
    }
    // `granted` settles with the function that releases the lock, or with null: not granted.
    let mut settle = None;
    let granted = Promise::new(&mut |resolve, _reject| settle = Some(resolve));
    let settle = settle?;
    let on_lock = {
        let settle = settle.clone();
        Closure::once_into_js(move |lock: JsValue| -> JsValue {
            if lock.is_null() {
                let _ = settle.call1(&JsValue::NULL, &JsValue::NULL);
                return JsValue::UNDEFINED;
            }
            let mut release = None;
            let held = Promise::new(&mut |resolve, _reject| release = Some(resolve));
            let _ = settle.call1(&JsValue::NULL, &release.map_or(JsValue::NULL, JsValue::from));
            held.into()
        })
    };
    match locks.request(name, &options, on_lock.unchecked_ref()) {
        // Aborted while waiting (or refused): not granted. Settling twice changes nothing.
        Ok(request) => {
            let refused = Closure::once(move |_: JsValue| {
                let _ = settle.call1(&JsValue::NULL, &JsValue::NULL);
            });
            let _ = request.catch(&refused);
            // Called at most once, maybe never: a few bytes per lock, for the page's life.
            refused.forget();
        }
        Err(_) => {
            let _ = settle.call1(&JsValue::NULL, &JsValue::NULL);
        }
    }
    let granted = JsFuture::from(granted).await.ok();
    if let Some(timer) = abort_timer {
        window.clear_timeout_with_handle(timer);
    }
    granted
        .and_then(|release| release.dyn_into::<Function>().ok())
        .map(|release| LockGuard { release: Some(release) })
}
