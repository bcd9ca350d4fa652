//! A blocking HTTP client for loopback calls that never treats a status as an error, so tests
//! can assert on 4xx answers.

use std::time::Duration;

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Performs one request; `headers` are added as given.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Result<Reply, ureq::Error> {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut response = match body {
        Some(body) => agent().run(builder.body(body.to_owned())?)?,
        None => agent().run(builder.body(())?)?,
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = response.body_mut().read_to_string()?;
    Ok(Reply { status, headers, body })
}

pub fn get(url: &str) -> Result<Reply, ureq::Error> {
    request("GET", url, &[], None)
}
