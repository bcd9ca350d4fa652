//! Dead letters as the local edge parks them, for tests and the demo's seeding that put letters
//! into its R2 directly: sealed with the `ARCHIVE_KEYS` of `.dev.vars` under the operators'
//! scope, bound to their key (`paylater_edge`'s `consumer::seal_letter`), and opened again.

use paylater_shared::archive::{ArchiveError, ArchiveKeyring, NONCE_LEN, Scope};
use sha2::{Digest, Sha256};

use crate::paths;

/// The local edge's archive keyring, read from `.dev.vars`.
pub fn dev_keyring() -> ArchiveKeyring {
    let vars = std::fs::read_to_string(paths::workspace_root().join(".dev.vars")).unwrap_or_default();
    let secret = vars
        .lines()
        .find_map(|line| line.strip_prefix("ARCHIVE_KEYS="))
        .map(|value| value.trim().trim_matches('"').to_owned())
        .unwrap_or_default();
    ArchiveKeyring::parse(&secret).unwrap_or_else(|e| panic!(".dev.vars: {e}"))
}

/// A letter stored at `key`, sealed with `keyring`. The nonce comes from the key and the text:
/// two texts never share one (and each object's cipher key is its own anyway).
pub fn seal_with(keyring: &ArchiveKeyring, key: &str, text: &str) -> Vec<u8> {
    let digest = Sha256::digest([key.as_bytes(), b"\n", text.as_bytes()].concat());
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&digest[..NONCE_LEN]);
    keyring.seal(Scope::Operator, key, text.as_bytes(), nonce)
}

/// A letter stored at `key`, sealed with the local keyring.
pub fn seal(key: &str, text: &str) -> Vec<u8> {
    seal_with(&dev_keyring(), key, text)
}

/// The text of a letter read from `key`.
pub fn open(key: &str, stored: &[u8]) -> Result<String, ArchiveError> {
    let plain = dev_keyring().open(Scope::Operator, key, stored)?;
    Ok(String::from_utf8_lossy(&plain).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_open_at_their_own_key_only() {
        let sealed = seal("dead-letter/events/m_demo/test/a", "{\"x\":1}");
        assert_eq!(open("dead-letter/events/m_demo/test/a", &sealed).unwrap(), "{\"x\":1}");
        assert!(open("dead-letter/events/m_other/test/a", &sealed).is_err());
        assert_ne!(
            seal("dead-letter/events/m_demo/test/b", "{\"x\":1}")[..40],
            sealed[..40],
            "another key, another nonce"
        );
    }
}
