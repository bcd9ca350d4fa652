//! JSON read from bytes through `serde_json`'s text reader. `serde_json::from_slice` and
//! `from_str` are two readers, and every type read through both is compiled twice into a wasm
//! bundle; reading bytes as text first keeps one copy (the edge's upload counts it).

use serde::de::{DeserializeOwned, Error as _};

/// `bytes` as JSON of `T`; bytes that are not UTF-8 are a JSON error like any other.
pub fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| serde_json::Error::custom(format!("not UTF-8 at byte {}", e.valid_up_to())))?;
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_from_slice_reads_and_refuses_what_it_refuses() {
        let cases: [&[u8]; 5] = [b"{\"a\":1}", b"[1,2]", b"{", b"\xff\xfe", b"{\"a\":\"\xc3\"}"];
        for bytes in cases {
            let ours = from_bytes::<serde_json::Value>(bytes);
            let theirs = serde_json::from_slice::<serde_json::Value>(bytes);
            assert_eq!(ours.is_ok(), theirs.is_ok(), "{bytes:?}");
            if let (Ok(ours), Ok(theirs)) = (ours, theirs) {
                assert_eq!(ours, theirs);
            }
        }
        assert_eq!(
            from_bytes::<serde_json::Value>(b"{\"a\":\"\xff\"}")
                .unwrap_err()
                .to_string(),
            "not UTF-8 at byte 6"
        );
    }
}
