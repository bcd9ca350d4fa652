//! The signed-in key, kept in `sessionStorage` (this tab only, gone when it closes), never in a
//! URL, a cookie or `localStorage`.

const KEY_NAME: &str = "paylater.dashboard.key";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// Whether `key` has a secret key's shape (`sk_test_…` / `sk_live_…` with a dot), so a
/// publishable key or a typo is named before anything is sent.
pub fn looks_like_secret_key(key: &str) -> bool {
    (key.starts_with("sk_test_") || key.starts_with("sk_live_"))
        && key.contains('.')
        && !key.contains(char::is_whitespace)
}

pub fn stored_key() -> Option<String> {
    storage()?
        .get_item(KEY_NAME)
        .ok()?
        .filter(|key| looks_like_secret_key(key))
}

pub fn store_key(key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(KEY_NAME, key);
    }
}

pub fn forget_key() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(KEY_NAME);
    }
}
