//! The events route under load: `wrk` (Debian) on loopback, bounded in time, against the edge
//! and against a no-op worker on the same `wrangler dev`, printed as a ratio.

use std::process::Command;
use std::time::{Duration, Instant};

use paylater_harness::edge::{BaselineWorker, Edge, EdgeOptions};
use paylater_harness::paths;
use paylater_harness::sink::OtlpSink;

use crate::runtime_cpu;

const ORIGIN: &str = "http://127.0.0.1:8080";
/// Sessions the load rotates over (each has its own Durable Object).
const SESSIONS: usize = 32;
/// Sessions for the approvals load: one attempt each (a session holds one approval), more than
/// the edge answers in the load's time.
const APPROVAL_SESSIONS: usize = 4_000;
const DURATION: &str = "10s";
const CONNECTIONS: &str = "8";
/// How long the consumer may take to deliver the load's backlog before the bench fails.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

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

/// `wrk` running `bench/{script}` against `url` over these sessions' tokens.
fn load(script: &str, url: &str, tokens: &[String], threads: &str, connections: &str) -> Result<WrkFigures, String> {
    let bench = paths::workspace_root().join("bench");
    let tokens_file = std::env::temp_dir().join(format!("paylater-bench-tokens-{}", std::process::id()));
    std::fs::write(&tokens_file, tokens.join("\n")).map_err(|e| format!("tokens file: {e}"))?;
    let output = Command::new("wrk")
        .args(["-t", threads, "-c", connections, "-d", DURATION, "--latency", "-s"])
        .arg(bench.join(script))
        .arg(url)
        .env("PAYLATER_BENCH_DIR", &bench)
        .env("PAYLATER_TOKENS_FILE", &tokens_file)
        .env("PAYLATER_ORIGIN", ORIGIN)
        .output()
        .map_err(|e| format!("wrk: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    parse_wrk(&text).ok_or_else(|| format!("could not read wrk's output:\n{text}"))
}

fn session(edge: &Edge) -> Result<String, String> {
    edge.session("pk_test_bench", 12_999, ORIGIN).map_err(|e| e.to_string())
}

/// One row of the table: what ran and how it did.
struct Row {
    name: &'static str,
    figures: WrkFigures,
    /// Seconds from the end of the load until the sink held every accepted event.
    drained_after_s: Option<f64>,
    /// The runtime's (workerd's) CPU per request during the load, and until the backlog drained.
    cpu: Cpu,
}

/// CPU milliseconds per request inside workerd (not wrangler's Node proxy).
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    during_load: f64,
    until_drained: Option<f64>,
}

/// `load` against `server`, with the CPU its workerd processes used meanwhile, per request.
fn measured_load(
    server: &Edge,
    script: &str,
    tokens: &[String],
    threads: &str,
    connections: &str,
) -> Result<(WrkFigures, Cpu, f64), String> {
    let pid = server.pid().ok_or("the server has no pid")?;
    let before = runtime_cpu::workerd_cpu_ms(pid);
    let figures = load(script, &server.url, tokens, threads, connections)?;
    let used = runtime_cpu::workerd_cpu_ms(pid) - before;
    let per_request = used / figures.requests.max(1) as f64;
    Ok((
        figures,
        Cpu {
            during_load: per_request,
            until_drained: None,
        },
        before,
    ))
}

/// Baselines take any session token: they name objects by it, nothing checks it.
fn baseline_sessions(count: usize) -> Vec<String> {
    (0..count).map(|n| format!("bench-session-{n}")).collect()
}

fn start_baseline(worker: BaselineWorker, work: &std::path::Path, dir: &str) -> Result<Edge, String> {
    Edge::start_baseline(
        worker,
        EdgeOptions {
            config_changes: Vec::new(),
            port: None,
            work_dir: work.join(dir),
            vars: Vec::new(),
        },
    )
    .map_err(|e| e.to_string())
}

/// The edge with these vars, and `sessions` sessions of the bench merchant on it.
fn start_edge(
    work: &std::path::Path,
    dir: &str,
    vars: Vec<(String, String)>,
    sessions: usize,
) -> Result<(Edge, Vec<String>), String> {
    let edge = Edge::start(EdgeOptions {
        config_changes: Vec::new(),
        port: None,
        work_dir: work.join(dir),
        vars,
    })
    .map_err(|e| e.to_string())?;
    let tokens = (0..sessions).map(|_| session(&edge)).collect::<Result<Vec<_>, _>>()?;
    Ok((edge, tokens))
}

fn baseline(worker: BaselineWorker, work: &std::path::Path, name: &'static str) -> Result<Row, String> {
    let server = start_baseline(worker, work, name)?;
    let (figures, cpu, _) = measured_load(&server, "events.lua", &baseline_sessions(SESSIONS), "2", CONNECTIONS)?;
    Ok(Row {
        name,
        figures,
        drained_after_s: None,
        cpu,
    })
}

/// The edge under load, then the wait (bounded) until its consumer delivered every accepted
/// event to the sink: each request carries 10 new ids, so that is 10 per 2xx answer.
fn edge(work: &std::path::Path, name: &'static str, console_records: &str) -> Result<Row, String> {
    let sink = OtlpSink::start().map_err(|e| e.to_string())?;
    let (edge, tokens) = start_edge(
        work,
        name,
        vec![
            ("LOG_SINK_URL".into(), sink.url.clone()),
            ("CONSOLE_RECORDS".into(), console_records.into()),
        ],
        SESSIONS,
    )?;
    let (figures, mut cpu, cpu_before) = measured_load(&edge, "events.lua", &tokens, "2", CONNECTIONS)?;
    let expected = ((figures.requests - figures.non_2xx) * 10) as usize;
    let ended = Instant::now();
    let mut drained_after_s = None;
    while ended.elapsed() < DRAIN_LIMIT {
        if sink.event_ids().len() >= expected {
            drained_after_s = Some(ended.elapsed().as_secs_f64());
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    if drained_after_s.is_some() {
        let pid = edge.pid().ok_or("the edge has no pid")?;
        let used = runtime_cpu::workerd_cpu_ms(pid) - cpu_before;
        cpu.until_drained = Some(used / figures.requests.max(1) as f64);
    } else {
        return Err(format!(
            "{name}: the sink held {} of {expected} accepted events {}s after the load",
            sink.event_ids().len(),
            DRAIN_LIMIT.as_secs()
        ));
    }
    Ok(Row {
        name,
        figures,
        drained_after_s,
        cpu,
    })
}

pub fn run() -> Result<(), String> {
    let work = std::env::temp_dir().join(format!("paylater-bench-{}", std::process::id()));
    // One server at a time, alone on the machine.
    let rows = [
        baseline(BaselineWorker::Noop, &work, "no-op worker")?,
        baseline(BaselineWorker::Floor, &work, "floor (JS: DO+queue)")?,
        edge(&work, "edge, records to console", "on")?,
        edge(&work, "edge, console copy off", "off")?,
    ];
    let approvals = approvals(&work)?;
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "\nPOST /v1/events, 10 new events a request, wrk -t2 -c{CONNECTIONS} -d{DURATION} on loopback (wrangler dev)"
    );
    println!(
        "{:<26} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10} {:>9} {:>11}",
        "", "req/s", "/no-op", "/floor", "p50 ms", "p99 ms", "non-2xx", "drained s", "cpu ms", "+drain ms"
    );
    let noop = rows[0].figures.requests_per_second;
    let floor = rows[1].figures.requests_per_second;
    let floor_cpu = rows[1].cpu.during_load;
    for row in &rows {
        let f = &row.figures;
        println!(
            "{:<26} {:>8.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8} {:>10} {:>9.2} {:>11}",
            row.name,
            f.requests_per_second,
            f.requests_per_second / noop,
            f.requests_per_second / floor,
            f.p50_ms,
            f.p99_ms,
            f.non_2xx,
            row.drained_after_s.map_or("-".to_owned(), |s| format!("{s:.1}")),
            row.cpu.during_load,
            row.cpu.until_drained.map_or("-".to_owned(), |ms| format!("{ms:.2}"))
        );
    }
    let floor_p99 = rows[1].figures.p99_ms;
    for row in &rows[2..] {
        let drained = row.cpu.until_drained.unwrap_or(row.cpu.during_load);
        println!(
            "{}: req/s {:.2}× the floor's (goal ≥ 0.8×), p99 {:.2}× (goal ≤ 1.5×); workerd CPU a request {:.2}× \
             during the load, {:.2}× with its backlog drained (goal ≤ 2×)",
            row.name,
            row.figures.requests_per_second / floor,
            row.figures.p99_ms / floor_p99,
            row.cpu.during_load / floor_cpu,
            drained / floor_cpu
        );
    }
    println!(
        "target: edge ≥ 0.5 of the no-op's requests/s. \"drained s\": after the load, until the local OTLP sink \
         held every accepted event (the consumer's backlog). \"cpu ms\": CPU time of the workerd processes (not \
         wrangler's Node proxy) over the load, per request; \"+drain ms\": the same until the backlog drained."
    );
    println!(
        "\nPOST /v1/approvals, a new Idempotency-Key each, 500 customers, one attempt a session over {APPROVAL_SESSIONS} sessions, {DURATION} (wrangler dev)"
    );
    println!(
        "{:<26} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "", "req/s", "/no-op", "p50 ms", "p99 ms", "non-2xx", "cpu ms"
    );
    for (name, f, cpu) in &approvals {
        println!(
            "{name:<26} {:>8.1} {:>8.2} {:>8.2} {:>8.2} {:>8} {:>9.2}",
            f.requests_per_second,
            f.requests_per_second / noop,
            f.p50_ms,
            f.p99_ms,
            f.non_2xx,
            cpu.during_load
        );
    }
    let find = |wanted: &str| approvals.iter().find(|(name, _, _)| *name == wanted);
    if let (Some((_, floor, floor_cpu)), Some((_, edge, edge_cpu))) =
        (find("floor, 1 connection"), find("edge, 1 connection"))
    {
        println!(
            "edge, 1 connection: p50 {:.2}× the floor's (goal ≤ 1.3×), p99 {:.2}× (goal ≤ 1.5×), workerd CPU a request {:.2}× (goal ≤ 2×)",
            edge.p50_ms / floor.p50_ms,
            edge.p99_ms / floor.p99_ms,
            edge_cpu.during_load / floor_cpu.during_load
        );
    }
    println!(
        "target: p99 ≤ 25 ms. Every session has one attempt and the bench merchant's velocity limits are \
         lifted (all load comes from one loopback IP), so each answer is a full decision: the session's, \
         the customer's and, when approved, the order book's object, the signature and the queue."
    );
    Ok(())
}

/// Approvals one at a time (latency) and eight at a time (throughput), on a fresh edge, beside
/// the no-op and the floor worker's approval round trips on the same runtime.
fn approvals(work: &std::path::Path) -> Result<Vec<(&'static str, WrkFigures, Cpu)>, String> {
    let script = "approvals.lua";
    let names = baseline_sessions(APPROVAL_SESSIONS);
    let mut rows = Vec::new();
    let mut row = |name: &'static str, server: &Edge, tokens: &[String], threads: &str, connections: &str| {
        let (figures, cpu, _) = measured_load(server, script, tokens, threads, connections)?;
        rows.push((name, figures, cpu));
        Ok::<_, String>(())
    };
    let noop = start_baseline(BaselineWorker::Noop, work, "approvals-no-op")?;
    row("no-op, 1 connection", &noop, &names, "1", "1")?;
    drop(noop);
    let floor = start_baseline(BaselineWorker::Floor, work, "approvals-floor")?;
    row("floor, 1 connection", &floor, &names, "1", "1")?;
    row("floor, 8 connections", &floor, &names, "2", CONNECTIONS)?;
    drop(floor);
    let (edge, tokens) = start_edge(work, "approvals", Vec::new(), APPROVAL_SESSIONS)?;
    row("edge, 1 connection", &edge, &tokens, "1", "1")?;
    row("edge, 8 connections", &edge, &tokens, "2", CONNECTIONS)?;
    Ok(rows)
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
