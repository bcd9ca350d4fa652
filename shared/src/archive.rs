//! The archive at rest: each object is AES-256-GCM under a key derived (HKDF-SHA256) for its
//! merchant, mode and own object key from the `ARCHIVE_KEYS` keyring, with a random nonce, and
//! the object key as associated data too, so an object copied under another key (or another
//! merchant's) does not open, and no two objects share a key (no nonce birthday bound). The edge
//! seals; the `paylater-audit` command opens with the keyring. Pure: the caller brings the nonce.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use sha2::Sha256;

/// What every sealed object starts with: the format's name and version.
pub const MAGIC: &[u8; 4] = b"PLA1";
/// The nonce of AES-GCM, random per object.
pub const NONCE_LEN: usize = 12;
/// The longest key id a keyring entry may have (it is written into every object).
pub const MAX_KID_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    #[error("ARCHIVE_KEYS: {0}")]
    Keyring(&'static str),
    #[error("not an archive object (no PLA1 header)")]
    NotSealed,
    #[error("sealed under key {0:?}, which the keyring does not hold")]
    UnknownKey(String),
    #[error("does not open: altered, or stored under another key or merchant")]
    Altered,
}

/// Whose archive an object belongs to: its key is derived for exactly this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// One merchant's records of one mode.
    Merchant { merchant_id: &'a str, livemode: bool },
    /// What no merchant can be named for (a message no consumer could read): operators only.
    Operator,
}

impl Scope<'_> {
    fn info(&self) -> String {
        match self {
            Self::Merchant { merchant_id, livemode } => {
                let mode = if *livemode { "live" } else { "test" };
                format!("paylater archive v1 merchant {merchant_id} {mode}")
            }
            Self::Operator => "paylater archive v1 operator".to_owned(),
        }
    }
}

/// One master secret of the keyring.
#[derive(Clone)]
struct MasterKey {
    kid: String,
    secret: Vec<u8>,
}

/// `ARCHIVE_KEYS`: `kid:base64url` entries (32+ bytes each), comma-separated, newest first. The
/// newest seals; every one opens, so a rotation keeps old objects readable.
#[derive(Clone)]
pub struct ArchiveKeyring {
    keys: Vec<MasterKey>,
}

impl std::fmt::Debug for ArchiveKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("ArchiveKeyring").field("kids", &kids).finish()
    }
}

impl ArchiveKeyring {
    pub fn parse(secret: &str) -> Result<Self, ArchiveError> {
        let mut keys: Vec<MasterKey> = Vec::new();
        for entry in secret.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (kid, encoded) = entry
                .split_once(':')
                .ok_or(ArchiveError::Keyring("each entry is kid:base64url"))?;
            if kid.is_empty() || kid.len() > MAX_KID_LEN || !kid.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ArchiveError::Keyring("a kid is 1 to 64 visible ASCII characters"));
            }
            if keys.iter().any(|k| k.kid == kid) {
                return Err(ArchiveError::Keyring("two entries share a kid"));
            }
            let secret = URL_SAFE_NO_PAD
                .decode(encoded)
                .map_err(|_| ArchiveError::Keyring("a secret is not base64url without padding"))?;
            if secret.len() < 32 {
                return Err(ArchiveError::Keyring("a secret has fewer than 32 bytes"));
            }
            keys.push(MasterKey {
                kid: kid.to_owned(),
                secret,
            });
        }
        if keys.is_empty() {
            return Err(ArchiveError::Keyring("no key"));
        }
        Ok(Self { keys })
    }

    /// The kid new objects are sealed under.
    pub fn newest_kid(&self) -> &str {
        &self.keys[0].kid
    }

    /// Seals `plain` as the object stored at `object_key` in `scope`'s archive.
    pub fn seal(&self, scope: Scope<'_>, object_key: &str, plain: &[u8], nonce: [u8; NONCE_LEN]) -> Vec<u8> {
        let master = &self.keys[0];
        let cipher = cipher(master, scope, object_key);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: object_key.as_bytes(),
                },
            )
            .unwrap_or_else(|_| unreachable!("AES-GCM seals any message under 64 GiB"));
        let mut object = Vec::with_capacity(MAGIC.len() + 1 + master.kid.len() + NONCE_LEN + sealed.len());
        object.extend_from_slice(MAGIC);
        object.push(master.kid.len() as u8);
        object.extend_from_slice(master.kid.as_bytes());
        object.extend_from_slice(&nonce);
        object.extend_from_slice(&sealed);
        object
    }

    /// Opens an object read from `object_key` in `scope`'s archive.
    pub fn open(&self, scope: Scope<'_>, object_key: &str, object: &[u8]) -> Result<Vec<u8>, ArchiveError> {
        let parts = Envelope::read(object)?;
        let master = self
            .keys
            .iter()
            .find(|k| k.kid == parts.kid)
            .ok_or_else(|| ArchiveError::UnknownKey(parts.kid.to_owned()))?;
        cipher(master, scope, object_key)
            .decrypt(
                Nonce::from_slice(parts.nonce),
                Payload {
                    msg: parts.sealed,
                    aad: object_key.as_bytes(),
                },
            )
            .map_err(|_| ArchiveError::Altered)
    }
}

fn cipher(master: &MasterKey, scope: Scope<'_>, object_key: &str) -> Aes256Gcm {
    let mut key = [0u8; 32];
    let info = format!("{}\n{object_key}", scope.info());
    Hkdf::<Sha256>::new(Some(b"paylater-archive"), &master.secret)
        .expand(info.as_bytes(), &mut key)
        .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 length"));
    Aes256Gcm::new(&key.into())
}

/// A sealed object's parts.
#[derive(Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub kid: &'a str,
    pub nonce: &'a [u8],
    pub sealed: &'a [u8],
}

impl<'a> Envelope<'a> {
    pub fn read(object: &'a [u8]) -> Result<Self, ArchiveError> {
        let rest = object.strip_prefix(MAGIC.as_slice()).ok_or(ArchiveError::NotSealed)?;
        let (&kid_len, rest) = rest.split_first().ok_or(ArchiveError::NotSealed)?;
        let kid_len = usize::from(kid_len);
        // A tag of 16 bytes follows even an empty message.
        if rest.len() < kid_len + NONCE_LEN + 16 {
            return Err(ArchiveError::NotSealed);
        }
        let (kid, rest) = rest.split_at(kid_len);
        let kid = std::str::from_utf8(kid).map_err(|_| ArchiveError::NotSealed)?;
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        Ok(Self { kid, nonce, sealed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OLD: &str = "a-2026-11:cGF5bGF0ZXItdGVzdC1hcmNoaXZlLWtleS1udW1iZXItb25lISE";
    const NEW: &str = "b-2026-12:cGF5bGF0ZXItdGVzdC1hcmNoaXZlLWtleS1udW1iZXItdHdvISE";
    const DEMO: Scope<'static> = Scope::Merchant {
        merchant_id: "m_demo",
        livemode: false,
    };

    fn keyring(secret: &str) -> ArchiveKeyring {
        ArchiveKeyring::parse(secret).unwrap()
    }

    #[test]
    fn an_object_opens_under_its_key_and_scope_only() {
        let ring = keyring(OLD);
        let object = ring.seal(DEMO, "logs/v1/m_demo/a", b"{\"x\":1}\n", [7; 12]);
        assert!(object.starts_with(b"PLA1\x09a-2026-11"));
        assert!(!object.windows(7).any(|w| w == b"{\"x\":1}"), "no plain text");
        assert_eq!(ring.open(DEMO, "logs/v1/m_demo/a", &object).unwrap(), b"{\"x\":1}\n");
        // Moved to another key, another merchant, the other mode: none opens.
        assert_eq!(ring.open(DEMO, "logs/v1/m_demo/b", &object), Err(ArchiveError::Altered));
        let other = Scope::Merchant {
            merchant_id: "m_other",
            livemode: false,
        };
        assert_eq!(
            ring.open(other, "logs/v1/m_demo/a", &object),
            Err(ArchiveError::Altered)
        );
        let live = Scope::Merchant {
            merchant_id: "m_demo",
            livemode: true,
        };
        assert_eq!(ring.open(live, "logs/v1/m_demo/a", &object), Err(ArchiveError::Altered));
        assert_eq!(
            ring.open(Scope::Operator, "logs/v1/m_demo/a", &object),
            Err(ArchiveError::Altered)
        );
    }

    #[test]
    fn a_rotated_keyring_opens_old_objects_and_seals_with_the_newest() {
        let old_object = keyring(OLD).seal(DEMO, "k", b"old", [1; 12]);
        let rotated = keyring(&format!("{NEW},{OLD}"));
        assert_eq!(rotated.newest_kid(), "b-2026-12");
        let new_object = rotated.seal(DEMO, "k", b"new", [2; 12]);
        assert_eq!(rotated.open(DEMO, "k", &old_object).unwrap(), b"old");
        assert_eq!(rotated.open(DEMO, "k", &new_object).unwrap(), b"new");
        // The old keyring alone cannot open what the new key sealed, and says which key it needs.
        assert_eq!(
            keyring(OLD).open(DEMO, "k", &new_object),
            Err(ArchiveError::UnknownKey("b-2026-12".into()))
        );
    }

    #[test]
    fn bad_keyrings_are_refused_with_a_reason() {
        let cases = [
            ("", "no key"),
            ("nokid", "each entry is kid:base64url"),
            (":c2hvcnQ", "a kid is 1 to 64 visible ASCII characters"),
            ("a:c2hvcnQ", "a secret has fewer than 32 bytes"),
            ("a:***", "a secret is not base64url without padding"),
            (&format!("{OLD},{OLD}"), "two entries share a kid"),
        ];
        for (secret, why) in cases {
            assert_eq!(
                ArchiveKeyring::parse(secret).unwrap_err(),
                ArchiveError::Keyring(why),
                "{secret}"
            );
        }
        assert!(!format!("{:?}", keyring(OLD)).contains("cGF5"), "Debug shows kids only");
    }

    #[test]
    fn short_and_foreign_bytes_are_not_objects() {
        let ring = keyring(OLD);
        for bytes in [&b""[..], b"PLA1", b"{\"plain\":true}", b"PLA1\x05abc"] {
            assert_eq!(ring.open(DEMO, "k", bytes), Err(ArchiveError::NotSealed), "{bytes:?}");
        }
    }

    proptest! {
        #[test]
        fn every_flipped_bit_is_caught(plain in proptest::collection::vec(any::<u8>(), 0..200), at in any::<usize>(), bit in 0u8..8) {
            let ring = keyring(OLD);
            let mut object = ring.seal(DEMO, "k", &plain, [9; 12]);
            prop_assert_eq!(ring.open(DEMO, "k", &object).unwrap(), plain);
            let at = at % object.len();
            object[at] ^= 1 << bit;
            prop_assert!(ring.open(DEMO, "k", &object).is_err());
        }
    }
}
