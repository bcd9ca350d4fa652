//! The edge's audit API over HTTP: the key set, the digest and object listings, stored bytes.

use std::io::Read;

use paylater_shared::token::Jwks;
use serde::Deserialize;

/// One stored object of a listing.
#[derive(Debug, Deserialize)]
pub struct Listed {
    pub key: String,
    pub uploaded: i64,
}

#[derive(Debug, Deserialize)]
pub struct DigestList {
    pub merchant_id: String,
    pub livemode: bool,
    pub digests: Vec<Listed>,
}

#[derive(Debug, Deserialize)]
pub struct ObjectList {
    pub merchant_id: String,
    pub livemode: bool,
    pub objects: Vec<Listed>,
}

pub struct Edge {
    base: String,
    authorization: String,
    agent: ureq::Agent,
}

impl Edge {
    pub fn new(base: &str, key: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self {
            base: base.to_owned(),
            authorization: format!("Bearer {key}"),
            agent,
        }
    }

    /// A GET's status and body.
    fn get(&self, path: &str) -> Result<(u16, Vec<u8>), String> {
        let url = format!("{}{path}", self.base);
        let mut response = self
            .agent
            .get(&url)
            .header("Authorization", &self.authorization)
            .call()
            .map_err(|e| format!("GET {url}: {e}"))?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        response
            .body_mut()
            .as_reader()
            .read_to_end(&mut body)
            .map_err(|e| format!("GET {url}: {e}"))?;
        Ok((status, body))
    }

    fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, String> {
        match self.get(path)? {
            (200, body) => serde_json::from_slice(&body).map_err(|e| format!("GET {path}: {e}")),
            (status, body) => Err(format!("GET {path}: {status} {}", String::from_utf8_lossy(&body))),
        }
    }

    pub fn keys(&self) -> Result<Jwks, String> {
        self.get_json("/v1/keys")
    }

    pub fn digest_list(&self, from: &str, to: &str) -> Result<DigestList, String> {
        self.get_json(&format!("/v1/audit/digests?from={from}&to={to}"))
    }

    pub fn object_list(&self, from: &str, to: &str) -> Result<ObjectList, String> {
        self.get_json(&format!("/v1/audit/objects?from={from}&to={to}"))
    }

    /// The stored bytes, or `None` when the edge has no such object.
    pub fn object(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        match self.get(&format!("/v1/audit/objects/{key}"))? {
            (200, body) => Ok(Some(body)),
            (404, _) => Ok(None),
            (status, body) => Err(format!(
                "GET /v1/audit/objects/{key}: {status} {}",
                String::from_utf8_lossy(&body)
            )),
        }
    }
}
