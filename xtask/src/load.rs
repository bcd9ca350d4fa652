//! The events route under load: `wrk` (Debian) on loopback, bounded in time, against the edge
//! and against a no-op worker on the same `wrangler dev`, printed as a ratio.

use std::process::Command;

use paylater_harness::edge::{Edge, EdgeOptions};
use paylater_harness::sink::OtlpSink;
use paylater_harness::{http, paths};

const ORIGIN: &str = "http://127.0.0.1:8080";
/// Sessions the load rotates over (each has its own Durable Object).
const SESSIONS: usize = 32;
const DURATION: &str = "10s";
const CONNECTIONS: &str = "8";

/// What wrk printed that we quote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WrkFigures {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non_2xx: u64,
    pub requests: u64,
}

fn millis(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// Reads `wrk --latency` output.
pub fn parse_wrk(output: &str) -> Option<WrkFigures> {
    let mut figures = WrkFigures::default();
    for line in output.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", rps] => figures.requests_per_second = rps.parse().ok()?,
            ["50%", latency] => figures.p50_ms = millis(latency)?,
            ["99%", latency] => figures.p99_ms = millis(latency)?,
            ["Non-2xx", "or", "3xx", "responses:", n] => figures.non_2xx = n.parse().ok()?,
            [n, "requests", "in", ..] => figures.requests = n.parse().ok()?,
            _ => {}
        }
    }
    (figures.requests_per_second > 0.0).then_some(figures)
}

fn wrk(url: &str, script: Option<&str>, env: &[(&str, String)]) -> Result<WrkFigures, String> {
    let mut command = Command::new("wrk");
    command.args(["-t2", "-c", CONNECTIONS, "-d", DURATION, "--latency"]);
    if let Some(script) = script {
        command.args(["-s", script]);
    }
    command.arg(url).envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    let output = command.output().map_err(|e| format!("wrk: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    parse_wrk(&text).ok_or_else(|| format!("could not read wrk's output:\n{text}"))
}

fn session(edge: &Edge) -> Result<String, String> {
    let body = r#"{"key":"pk_test_bench","amount":12999,"currency":"USD"}"#;
    let reply = http::request(
        "POST",
        &format!("{}/v1/sessions", edge.url),
        &[("Origin", ORIGIN), ("Content-Type", "application/json")],
        Some(body),
    )
    .map_err(|e| e.to_string())?;
    reply.json()["session_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no session: {} {}", reply.status, reply.body))
}

pub fn run() -> Result<(), String> {
    let work = std::env::temp_dir().join(format!("paylater-bench-{}", std::process::id()));
    let script = paths::workspace_root().join("bench/events.lua");
    let script = script.to_str().ok_or("script path")?;
    // The no-op first, alone on the machine.
    let noop_figures = {
        let noop = Edge::start_noop(EdgeOptions {
            port: None,
            work_dir: work.join("noop"),
            vars: Vec::new(),
        })
        .map_err(|e| e.to_string())?;
        wrk(&format!("{}/v1/events", noop.url), None, &[])?
    };
    let sink = OtlpSink::start().map_err(|e| e.to_string())?;
    let edge = Edge::start(EdgeOptions {
        port: None,
        work_dir: work.join("edge"),
        vars: vec![("LOG_SINK_URL".into(), sink.url.clone())],
    })
    .map_err(|e| e.to_string())?;
    let tokens = (0..SESSIONS).map(|_| session(&edge)).collect::<Result<Vec<_>, _>>()?;
    let edge_figures = wrk(
        &edge.url,
        Some(script),
        &[
            ("PAYLATER_TOKENS", tokens.join(",")),
            ("PAYLATER_ORIGIN", ORIGIN.to_owned()),
        ],
    )?;
    println!("\nPOST /v1/events, 10 events a request, wrk -t2 -c{CONNECTIONS} -d{DURATION} on loopback (wrangler dev)");
    println!(
        "{:<26} {:>10} {:>9} {:>9} {:>9} {:>8}",
        "", "req/s", "p50 ms", "p99 ms", "requests", "non-2xx"
    );
    for (name, f) in [
        ("edge (authorize+dedup+enqueue)", &edge_figures),
        ("no-op worker", &noop_figures),
    ] {
        println!(
            "{name:<26} {:>10.1} {:>9.2} {:>9.2} {:>9} {:>8}",
            f.requests_per_second, f.p50_ms, f.p99_ms, f.requests, f.non_2xx
        );
    }
    println!(
        "edge / no-op requests/s: {:.2} (target ≥ 0.5); events accepted/s ≈ {:.0}",
        edge_figures.requests_per_second / noop_figures.requests_per_second,
        edge_figures.requests_per_second * 10.0
    );
    drop(edge);
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_latency_output() {
        let output = "Running 10s test @ http://127.0.0.1:1/v1/events
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.05ms    3.10ms  60.01ms   90.00%
  Latency Distribution
     50%   11.50ms
     75%   13.00ms
     90%   15.00ms
     99%  850.00us
  6543 requests in 10.01s, 1.23MB read
  Non-2xx or 3xx responses: 3
Requests/sec:    653.71
Transfer/sec:    125.00KB
";
        assert_eq!(
            parse_wrk(output),
            Some(WrkFigures {
                requests_per_second: 653.71,
                p50_ms: 11.5,
                p99_ms: 0.85,
                non_2xx: 3,
                requests: 6543,
            })
        );
        assert_eq!(parse_wrk("garbage"), None);
        assert_eq!(millis("1.5s"), Some(1500.0));
    }
}
