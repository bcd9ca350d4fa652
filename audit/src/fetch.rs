//! The edge's audit API over HTTP: the key set, the digest and object listings, stored bytes.

use std::io::Read;

use paylater_shared::audit::PublishedKeys;
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
    #[serde(default)]
    pub next_after: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ObjectList {
    pub merchant_id: String,
    pub livemode: bool,
    pub objects: Vec<Listed>,
    #[serde(default)]
    pub next_after: Option<String>,
}

/// The most pages one listing reads (5000 keys each).
const MAX_PAGES: usize = 10_000;

/// A listing that comes in pages.
trait Paged {
    fn take_next_after(&mut self) -> Option<String>;
    /// Adds the next page's items, and takes its `next_after`.
    fn append(&mut self, next: Self);
}

impl Paged for DigestList {
    fn take_next_after(&mut self) -> Option<String> {
        self.next_after.take()
    }

    fn append(&mut self, mut next: Self) {
        self.digests.append(&mut next.digests);
        self.next_after = next.next_after;
    }
}

impl Paged for ObjectList {
    fn take_next_after(&mut self) -> Option<String> {
        self.next_after.take()
    }

    fn append(&mut self, mut next: Self) {
        self.objects.append(&mut next.objects);
        self.next_after = next.next_after;
    }
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

    /// The digest keys the edge publishes (`audit_digest_keys` of `GET /v1/keys`).
    pub fn digest_keys(&self) -> Result<Jwks, String> {
        let published: PublishedKeys = self.get_json("/v1/keys")?;
        Ok(Jwks {
            keys: published.audit_digest_keys,
        })
    }

    /// Every digest of the range, page after page.
    pub fn digest_list(&self, from: &str, to: &str) -> Result<DigestList, String> {
        self.every_page(&format!("/v1/audit/digests?from={from}&to={to}"))
    }

    /// Every archive object of the range, page after page.
    pub fn object_list(&self, from: &str, to: &str) -> Result<ObjectList, String> {
        self.every_page(&format!("/v1/audit/objects?from={from}&to={to}"))
    }

    /// A listing's first page and each next one (`after=` its `next_after`), joined.
    fn every_page<T: serde::de::DeserializeOwned + Paged>(&self, path: &str) -> Result<T, String> {
        let mut all: T = self.get_json(path)?;
        for _ in 0..MAX_PAGES {
            let Some(after) = all.take_next_after() else { break };
            let page: T = self.get_json(&format!("{path}&after={after}"))?;
            all.append(page);
        }
        Ok(all)
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
