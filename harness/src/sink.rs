//! A local OTLP/HTTP log receiver for tests and benchmarks: it keeps every body it accepts and
//! can be told to fail (as a sink that is down or overloaded), to refuse particular events, or to
//! hold an export unanswered (as a slow sink) while a backlog builds up behind it.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::HarnessError;

#[derive(Default)]
struct SinkState {
    /// 0: accept; otherwise answer every request with this status.
    failing_with: AtomicU16,
    /// Bodies mentioning one of these event ids are refused with 400.
    refused_ids: Mutex<HashSet<String>>,
    /// Accepted bodies with when each arrived, in arrival order.
    accepted: Mutex<Vec<(Instant, String)>>,
    refusals: AtomicUsize,
    /// Bodies that were not OTLP JSON `ExportLogsServiceRequest`s, with why: any one fails the
    /// test that reads this sink next.
    malformed: Mutex<Vec<String>>,
    gate: Gate,
}

/// While shut, the sink's one serving thread waits before it reads an export, so the edge's
/// delivery that sent it waits too, and every later export waits behind it.
#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    shut: bool,
    /// Whether an export is waiting at the gate now.
    waiting: bool,
}

impl Gate {
    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_shut(&self, shut: bool) {
        self.lock().shut = shut;
        self.changed.notify_all();
    }

    /// Waits while the gate is shut, saying so to [`Gate::wait_for_waiting`].
    fn pass(&self) {
        let mut state = self.lock();
        state.waiting = state.shut;
        self.changed.notify_all();
        while state.shut {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.waiting = false;
    }

    fn wait_for_waiting(&self, limit: Duration) -> bool {
        let started = Instant::now();
        let mut state = self.lock();
        while !state.waiting {
            let Some(left) = limit.checked_sub(started.elapsed()) else {
                return false;
            };
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

/// A receiver on a free loopback port, stopped on drop.
pub struct OtlpSink {
    /// `http://127.0.0.1:PORT/v1/logs`.
    pub url: String,
    state: Arc<SinkState>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl OtlpSink {
    pub fn start() -> Result<Self, HarnessError> {
        let server = tiny_http::Server::http("127.0.0.1:0").map_err(|e| HarnessError::Command {
            what: "OTLP sink".into(),
            detail: e.to_string(),
        })?;
        let port = server.server_addr().to_ip().map(|a| a.port()).unwrap_or_default();
        let server = Arc::new(server);
        let state = Arc::new(SinkState::default());
        let thread = {
            let (server, state) = (server.clone(), state.clone());
            std::thread::spawn(move || serve(&server, &state))
        };
        Ok(Self {
            url: format!("http://127.0.0.1:{port}/v1/logs"),
            state,
            server,
            thread: Some(thread),
        })
    }

    /// Answer every request with `status` (e.g. 503) until [`Self::recover`].
    pub fn fail_with(&self, status: u16) {
        self.state.failing_with.store(status, Ordering::SeqCst);
    }

    pub fn recover(&self) {
        self.state.failing_with.store(0, Ordering::SeqCst);
    }

    /// Refuse (400) any export that carries this event id, until [`Self::accept_all_ids`].
    pub fn refuse_event(&self, id: &str) {
        self.state
            .refused_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned());
    }

    pub fn accept_all_ids(&self) {
        self.state.refused_ids.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Holds the next export unanswered, and every one after it, until [`Self::release`]. The
    /// sink serves one request at a time, so `GET /records` waits behind a held export too.
    pub fn hold(&self) {
        self.state.gate.set_shut(true);
    }

    /// Waits (at most `limit`) until an export waits at the held sink; false if none came.
    pub fn wait_for_held_export(&self, limit: Duration) -> bool {
        self.state.gate.wait_for_waiting(limit)
    }

    /// Answers the held export, and every one after it, as usual.
    pub fn release(&self) {
        self.state.gate.set_shut(false);
    }

    /// Requests answered with an error so far.
    pub fn refusals(&self) -> usize {
        self.state.refusals.load(Ordering::SeqCst)
    }

    /// Every accepted body, in arrival order. Panics (failing the test) if the edge ever sent a
    /// body that is not an OTLP JSON export, rather than leaving it out.
    pub fn bodies(&self) -> Vec<String> {
        self.arrivals().into_iter().map(|(_, body)| body).collect()
    }

    /// Every accepted body with when it arrived (once through a held gate), in arrival order;
    /// panics as [`Self::bodies`] does.
    pub fn arrivals(&self) -> Vec<(Instant, String)> {
        let malformed = self.state.malformed.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert!(
            malformed.is_empty(),
            "the sink got bodies that are not OTLP JSON: {malformed:?}"
        );
        self.state.accepted.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Every accepted LogRecord, in arrival order.
    pub fn records(&self) -> Vec<serde_json::Value> {
        records_of(&self.bodies())
    }

    /// Where a test in another process reads [`Self::records`]: `GET` answers them as a JSON
    /// array.
    pub fn records_url(&self) -> String {
        self.url.replace("/v1/logs", "/records")
    }

    /// `event.id` of every accepted record, in arrival order (duplicates kept).
    pub fn event_ids(&self) -> Vec<String> {
        self.records().iter().filter_map(|r| attribute(r, "event.id")).collect()
    }
}

/// The LogRecords of an OTLP JSON `ExportLogsServiceRequest`, or why it is not one:
/// `resourceLogs[].scopeLogs[].logRecords[]`, each record an object with its times as strings
/// of digits and its attributes as key/value objects.
pub fn parse_export(body: &str) -> Result<Vec<serde_json::Value>, String> {
    let export: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    let array = |value: &serde_json::Value, name: &str| -> Result<Vec<serde_json::Value>, String> {
        value[name]
            .as_array()
            .cloned()
            .ok_or_else(|| format!("{name} is not an array"))
    };
    let mut records = Vec::new();
    for resource in array(&export, "resourceLogs")? {
        for scope in array(&resource, "scopeLogs")? {
            for record in array(&scope, "logRecords")? {
                for time in ["timeUnixNano", "observedTimeUnixNano"] {
                    let digits = record[time]
                        .as_str()
                        .is_some_and(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()));
                    if !digits {
                        return Err(format!("a record's {time} is not a string of digits: {record}"));
                    }
                }
                let attributes_ok = array(&record, "attributes")?
                    .iter()
                    .all(|kv| kv["key"].is_string() && kv["value"].is_object());
                if !attributes_ok {
                    return Err(format!("a record's attributes are not key/value objects: {record}"));
                }
                records.push(record);
            }
        }
    }
    Ok(records)
}

/// The LogRecords of accepted export bodies, in order (each was checked as it arrived).
fn records_of(bodies: &[String]) -> Vec<serde_json::Value> {
    bodies
        .iter()
        .flat_map(|body| parse_export(body).unwrap_or_default())
        .collect()
}

/// A string attribute of an OTLP JSON LogRecord.
pub fn attribute(record: &serde_json::Value, key: &str) -> Option<String> {
    record["attributes"]
        .as_array()?
        .iter()
        .find(|kv| kv["key"] == key)
        .and_then(|kv| kv["value"]["stringValue"].as_str().map(str::to_owned))
}

fn serve(server: &tiny_http::Server, state: &SinkState) {
    for mut request in server.incoming_requests() {
        if request.method() == &tiny_http::Method::Get && request.url() == "/records" {
            let malformed = state.malformed.lock().unwrap_or_else(|e| e.into_inner()).clone();
            // A reader in another process fails on this answer as a test here would.
            if !malformed.is_empty() {
                let answer = serde_json::json!({ "malformed": malformed }).to_string();
                let _ = request.respond(tiny_http::Response::from_string(answer).with_status_code(500));
                continue;
            }
            let bodies: Vec<String> = state
                .accepted
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|(_, body)| body.clone())
                .collect();
            let json = serde_json::Value::Array(records_of(&bodies)).to_string();
            let _ = request.respond(tiny_http::Response::from_string(json));
            continue;
        }
        state.gate.pass();
        let mut body = String::new();
        let read = request.as_reader().read_to_string(&mut body);
        let failing = state.failing_with.load(Ordering::SeqCst);
        let refused = state
            .refused_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|id| body.contains(id.as_str()));
        let json_type = request
            .headers()
            .iter()
            .any(|h| h.field.equiv("Content-Type") && h.value.as_str().starts_with("application/json"));
        let parsed = parse_export(&body);
        let status = if read.is_err() || !json_type || request.url() != "/v1/logs" {
            let why = format!("{} {} (JSON: {json_type})", request.method(), request.url());
            state.malformed.lock().unwrap_or_else(|e| e.into_inner()).push(why);
            400
        } else if let Err(why) = parsed {
            state.malformed.lock().unwrap_or_else(|e| e.into_inner()).push(why);
            400
        } else if failing != 0 {
            failing
        } else if refused {
            400
        } else {
            state
                .accepted
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((Instant::now(), body));
            200
        };
        if status != 200 {
            state.refusals.fetch_add(1, Ordering::SeqCst);
        }
        let _ = request.respond(tiny_http::Response::from_string("{}").with_status_code(status));
    }
}

impl Drop for OtlpSink {
    fn drop(&mut self) {
        self.release();
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_are_checked_as_otlp_json() {
        let record = r#"{"timeUnixNano":"1","observedTimeUnixNano":"2","attributes":[{"key":"event.id","value":{"stringValue":"e1"}}]}"#;
        let export = format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{record}]}}]}}]}}"#);
        let records = parse_export(&export).unwrap();
        assert_eq!(attribute(&records[0], "event.id").as_deref(), Some("e1"));
        assert_eq!(
            parse_export(r#"{"resourceLogs":[]}"#).unwrap(),
            Vec::<serde_json::Value>::new()
        );
        for (bad, why) in [
            ("[", "not JSON"),
            ("{}", "resourceLogs is not an array"),
            (r#"{"resourceLogs":[{}]}"#, "scopeLogs is not an array"),
            (
                r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":1}]}]}]}"#,
                "timeUnixNano is not a string of digits",
            ),
            (
                r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","observedTimeUnixNano":"2","attributes":[{"key":"k"}]}]}]}]}"#,
                "attributes are not key/value objects",
            ),
        ] {
            let error = parse_export(bad).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
        }
    }

    #[test]
    fn a_malformed_body_fails_whoever_reads_the_sink() {
        let sink = OtlpSink::start().unwrap();
        let post = |body: &str| {
            crate::http::request("POST", &sink.url, &[("Content-Type", "application/json")], Some(body)).unwrap()
        };
        assert_eq!(post(r#"{"resourceLogs":[]}"#).status, 200);
        assert!(sink.event_ids().is_empty());
        assert_eq!(post(r#"{"resourceLogs":"nope"}"#).status, 400);
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink.event_ids()));
        assert!(read.is_err(), "reading a sink that got a malformed body fails");
        assert_eq!(crate::http::get(&sink.records_url()).unwrap().status, 500);
    }

    #[test]
    fn a_held_export_waits_unanswered_until_released() {
        let sink = OtlpSink::start().unwrap();
        let export = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","observedTimeUnixNano":"2","attributes":[{"key":"event.id","value":{"stringValue":"e1"}}]}]}]}]}"#;
        sink.hold();
        assert!(
            !sink.wait_for_held_export(Duration::from_millis(50)),
            "nothing was sent yet"
        );
        let url = sink.url.clone();
        let sender = std::thread::spawn(move || {
            crate::http::request("POST", &url, &[("Content-Type", "application/json")], Some(export)).unwrap()
        });
        assert!(sink.wait_for_held_export(Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(100));
        assert!(!sender.is_finished(), "a held export is not answered");
        assert!(sink.event_ids().is_empty(), "nor kept");
        let released = Instant::now();
        sink.release();
        assert_eq!(sender.join().unwrap().status, 200);
        assert_eq!(sink.event_ids(), ["e1"]);
        let (arrived, _) = sink.arrivals()[0];
        assert!(arrived >= released, "it counts as arrived once let through");
    }
}
