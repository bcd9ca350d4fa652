//! The events route under load: `wrk` (Debian) on loopback, bounded in time, against the edge
//! and against a no-op worker on the same `wrangler dev`, printed as a ratio.

use std::process::Command;
use std::time::{Duration, Instant};

use paylater_harness::edge::{BaselineWorker, Edge, EdgeOptions};
use paylater_harness::paths;
use paylater_harness::sink::{OtlpSink, attribute, parse_export};

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
/// Bounds of the pause between two looks at the sink.
const MIN_POLL: Duration = Duration::from_millis(100);
const MAX_POLL: Duration = Duration::from_secs(2);

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

/// The vars that point the edge's consumer at `sink`, with or without its console copy.
fn sink_vars(sink: &OtlpSink, console_records: &str) -> Vec<(String, String)> {
    vec![
        ("LOG_SINK_URL".into(), sink.url.clone()),
        ("CONSOLE_RECORDS".into(), console_records.into()),
    ]
}

/// Events the edge took from a wrk run of `events.lua`: 10 new ids in each 2xx answer.
fn accepted_events(figures: &WrkFigures) -> usize {
    (figures.requests.saturating_sub(figures.non_2xx) * 10) as usize
}

/// Records carrying an `event.id` in the sink, counted in the raw bodies: cheap next to parsing
/// them all, which a poll of a 50,000-event backlog would pay many times over.
fn event_records_in_raw_bodies(sink: &OtlpSink) -> usize {
    sink.bodies().iter().map(|body| event_records_in(body)).sum()
}

/// Records carrying an `event.id` in one raw export body.
fn event_records_in(body: &str) -> usize {
    body.matches("\"event.id\"").count()
}

/// How many bodies brought the sink's records with an event id to `expected`, and when the last
/// of them arrived: the end of a drain, as exact as the sink's clock, not as coarse as
/// [`wait_for_sink`]'s polls.
fn reached_at(arrivals: &[(Instant, String)], expected: usize) -> Option<(usize, Instant)> {
    let mut held = 0;
    arrivals.iter().enumerate().find_map(|(n, (at, body))| {
        held += event_records_in(body);
        (held >= expected).then_some((n + 1, *at))
    })
}

/// Distinct `event.id`s in `bodies` (OTLP exports the sink accepted, so they parse): a record
/// delivered twice (a retried batch) counts once.
fn distinct_ids_in(bodies: &[(Instant, String)]) -> usize {
    bodies
        .iter()
        .flat_map(|(_, body)| parse_export(body).unwrap_or_default())
        .filter_map(|record| attribute(&record, "event.id"))
        .collect::<std::collections::HashSet<_>>()
        .len()
}

/// Waits (at most `limit`) until the sink holds `expected` records with an event id (not
/// distinct ids: wrk's runs number their events alike, each run in sessions of its own), and
/// answers how long that took; otherwise how many it held. Polls take at most a tenth of the
/// time, so the wait barely competes with the consumer it waits for.
fn wait_for_sink(sink: &OtlpSink, expected: usize, limit: Duration) -> Result<Duration, usize> {
    let started = Instant::now();
    while started.elapsed() < limit {
        let poll = Instant::now();
        if event_records_in_raw_bodies(sink) >= expected {
            let reached = started.elapsed();
            if sink.event_ids().len() >= expected {
                return Ok(reached);
            }
        }
        std::thread::sleep((poll.elapsed() * 10).clamp(MIN_POLL, MAX_POLL));
    }
    Err(distinct_ids_in(&sink.arrivals()))
}

/// The edge under load, then the wait (bounded) until its consumer delivered every accepted
/// event to the sink: each request carries 10 new ids, so that is 10 per 2xx answer.
fn edge(work: &std::path::Path, name: &'static str, console_records: &str) -> Result<Row, String> {
    let sink = OtlpSink::start().map_err(|e| e.to_string())?;
    let (edge, tokens) = start_edge(work, name, sink_vars(&sink, console_records), SESSIONS)?;
    let (figures, mut cpu, cpu_before) = measured_load(&edge, "events.lua", &tokens, "2", CONNECTIONS)?;
    let expected = accepted_events(&figures);
    let drained = wait_for_sink(&sink, expected, DRAIN_LIMIT).map_err(|held| {
        format!(
            "{name}: the sink held {held} of {expected} accepted events {}s after the load",
            DRAIN_LIMIT.as_secs()
        )
    })?;
    let pid = edge.pid().ok_or("the edge has no pid")?;
    let used = runtime_cpu::workerd_cpu_ms(pid) - cpu_before;
    cpu.until_drained = Some(used / figures.requests.max(1) as f64);
    Ok(Row {
        name,
        figures,
        drained_after_s: Some(drained.as_secs_f64()),
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
         lifted (the load comes from 16 client IPs, so none meets the cap of 1,000 attempts an hour per IP), \
         so each answer is a full decision: the client IP's, the session's, the customer's and, when \
         approved, the order book's object, the signature and the queue."
    );
    cost_growth(&work)?;
    let _ = std::fs::remove_dir_all(&work);
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

/// Backlogs the consumer drains in "how cost grows": the time per 1,000 events should stay flat.
const BACKLOGS: [usize; 3] = [1_000, 10_000, 50_000];
/// Events in one backlog request (the most the edge takes: `telemetry::MAX_EVENTS`).
const EVENTS_PER_REQUEST: usize = paylater_shared::telemetry::MAX_EVENTS;
/// Threads posting a backlog, one request at a time each.
const POSTERS: usize = 8;
/// Further tries of a backlog request the edge answered 429 or 5xx.
const RETRIES: u32 = 5;
/// The most the spread of ms per 1,000 events may be (max/min - 1) for the cost to count as flat.
const FLATNESS_GOAL_PERCENT: f64 = 30.0;
/// Session counts of the events load in "how cost grows".
const SESSION_COUNTS: [usize; 3] = [1, 32, 1_000];

/// One backlog: how long posting it took (its consumer held), and how long the consumer took to
/// deliver it once let go.
struct Backlog {
    events: usize,
    post_s: f64,
    drain_s: f64,
}

/// The events load over `sessions` sessions.
struct SessionsRow {
    sessions: usize,
    figures: WrkFigures,
}

/// Milliseconds per 1,000 events of `seconds` spent on `events`.
fn ms_per_thousand(seconds: f64, events: usize) -> f64 {
    seconds * 1000.0 / (events as f64 / 1000.0)
}

/// Milliseconds per 1,000 events each backlog took beyond the one before it (none for the
/// first): what more events cost, without what every drain costs once (the held delivery's
/// end, the first and last deliveries).
fn marginal_ms_per_thousand(backlogs: &[(f64, usize)]) -> Vec<Option<f64>> {
    std::iter::once(None)
        .chain(backlogs.windows(2).map(|pair| {
            let ((before_s, before), (after_s, after)) = (pair[0], pair[1]);
            (after > before).then(|| ms_per_thousand(after_s - before_s, after - before))
        }))
        .take(backlogs.len())
        .collect()
}

/// max/min - 1 in percent; `None` without values or with one that is not positive.
fn spread_percent(values: &[f64]) -> Option<f64> {
    let min = values.iter().copied().reduce(f64::min)?;
    let max = values.iter().copied().reduce(f64::max)?;
    (min > 0.0).then(|| (max / min - 1.0) * 100.0)
}

/// How long the consumer may take for `events`: a minute, or 12 ms an event (600 s for 50,000).
fn backlog_drain_limit(events: usize) -> Duration {
    Duration::from_millis((events as u64 * 12).max(60_000))
}

/// Requests that carry `events`, at most [`EVENTS_PER_REQUEST`] each.
fn backlog_requests(events: usize) -> usize {
    events.div_ceil(EVENTS_PER_REQUEST)
}

/// Sessions a backlog is spread over: [`SESSIONS`], or one a request when there are fewer.
fn backlog_sessions(events: usize) -> usize {
    backlog_requests(events).min(SESSIONS)
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The body of backlog request `request` (0-based) of `events`: new ids numbered across the
/// backlog, sent to session `request % tokens.len()` with that session's seq counting on from
/// its previous request.
fn backlog_body(request: usize, events: usize, tokens: &[String], ts: i64) -> (String, usize) {
    let first = request * EVENTS_PER_REQUEST;
    let count = EVENTS_PER_REQUEST.min(events - first);
    let first_seq = request / tokens.len() * EVENTS_PER_REQUEST;
    let batch: Vec<serde_json::Value> = (0..count)
        .map(|n| event_json(BACKLOG_IDS, first + n, first_seq + n, ts))
        .collect();
    let token = &tokens[request % tokens.len()];
    let body = serde_json::json!({ "session_token": token, "events": batch }).to_string();
    (body, count)
}

/// POSTs one backlog body until the edge takes all `count` events: a bounded number of tries on
/// 429, 5xx and transport errors, none on any other answer.
fn post_backlog_request(url: &str, body: &str, count: usize) -> Result<(), String> {
    let headers = [("Content-Type", "application/json"), ("Origin", ORIGIN)];
    let mut last = String::new();
    for attempt in 0..=RETRIES {
        match paylater_harness::http::request("POST", url, &headers, Some(body)) {
            Ok(reply) if reply.status == 202 && events_taken(&reply.json()) == count as u64 => return Ok(()),
            Ok(reply) if reply.status != 429 && reply.status < 500 => {
                return Err(format!("POST /v1/events: {} {}", reply.status, reply.body));
            }
            Ok(reply) => last = format!("{} {}", reply.status, reply.body),
            Err(error) => last = error.to_string(),
        }
        std::thread::sleep(Duration::from_millis(100 * u64::from(attempt + 1)));
    }
    Err(format!(
        "POST /v1/events: still failing after {RETRIES} retries: {last}"
    ))
}

/// Events a 202 answer says the edge took: new ones and ones it already had.
fn events_taken(answer: &serde_json::Value) -> u64 {
    answer["accepted"].as_u64().unwrap_or(0) + answer["duplicates"].as_u64().unwrap_or(0)
}

/// Posts `events` new events to the edge at `edge_url` from [`POSTERS`] threads, each taking the
/// next request until none is left.
fn post_backlog(edge_url: &str, tokens: &[String], events: usize) -> Result<(), String> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let url = format!("{edge_url}/v1/events");
    let (next, failed) = (AtomicUsize::new(0), AtomicBool::new(false));
    let requests = backlog_requests(events);
    let ts = unix_ms();
    let poster = || -> Result<(), String> {
        loop {
            let request = next.fetch_add(1, Ordering::SeqCst);
            if request >= requests || failed.load(Ordering::SeqCst) {
                return Ok(());
            }
            let (body, count) = backlog_body(request, events, tokens, ts);
            post_backlog_request(&url, &body, count).inspect_err(|_| failed.store(true, Ordering::SeqCst))?;
        }
    };
    std::thread::scope(|scope| {
        let posters: Vec<_> = (0..POSTERS).map(|_| scope.spawn(poster)).collect();
        posters
            .into_iter()
            .map(|p| p.join().unwrap_or_else(|_| Err("a poster panicked".into())))
            .collect::<Result<Vec<()>, String>>()
    })
    .map(|_| ())
}

/// Requests of [`EVENTS_PER_REQUEST`] events a fresh edge gets before it is measured, delivered
/// before the clock starts: one full delivery of the events consumer. The first delivery also
/// starts the back office's isolate and makes the local R2 bucket and D1 tables, and the first
/// thousand records run through code V8 has not optimized yet: one-off costs of a fresh edge,
/// not the backlog's.
const WARM_UP_REQUESTS: usize = PLUG_MESSAGES;
const WARM_UP_EVENTS: usize = WARM_UP_REQUESTS * EVENTS_PER_REQUEST;

/// The id groups (fourth UUID field) of the backlogs', the warm-ups' and the plugs' events, so
/// none has another's id.
const BACKLOG_IDS: &str = "9a1e";
const WARM_UP_IDS: &str = "9a1f";
const PLUG_IDS: &str = "9a20";

/// A `widget_viewed` event numbered `n` in its id group.
fn event_json(group: &str, n: usize, seq: usize, ts: i64) -> serde_json::Value {
    serde_json::json!({
        "id": format!("0190d2c5-0b10-7cc2-{group}-{n:012x}"),
        "name": "widget_viewed",
        "ts": ts,
        "seq": seq,
        "props": { "visible_ms": 1000 },
    })
}

/// A body of one session's events numbered `seqs` in `group`, each event's seq its number.
fn session_body(token: &str, ts: i64, group: &str, seqs: std::ops::Range<usize>) -> String {
    let events: Vec<serde_json::Value> = seqs.map(|n| event_json(group, n, n, ts)).collect();
    serde_json::json!({ "session_token": token, "events": events }).to_string()
}

/// Sends the warm-up requests and waits until the sink holds their events.
fn warm_up(edge: &Edge, sink: &OtlpSink) -> Result<(), String> {
    let token = session(edge)?;
    let ts = unix_ms();
    for n in 0..WARM_UP_REQUESTS {
        let seqs = n * EVENTS_PER_REQUEST..(n + 1) * EVENTS_PER_REQUEST;
        post_backlog_request(
            &format!("{}/v1/events", edge.url),
            &session_body(&token, ts, WARM_UP_IDS, seqs),
            EVENTS_PER_REQUEST,
        )?;
    }
    wait_for_sink(sink, WARM_UP_EVENTS, Duration::from_secs(60))
        .map(|_| ())
        .map_err(|held| format!("warm-up: the sink held {held} of {WARM_UP_EVENTS} events after 60 s"))
}

/// Messages of a plug: the events consumer's `max_batch_size` (`wrangler.office.toml`), so they
/// make one delivery, which miniflare starts at once and starts no other beside.
const PLUG_MESSAGES: usize = 10;
/// How long a plug's delivery may take to reach the held sink.
const PLUG_LIMIT: Duration = Duration::from_secs(30);

/// Holds the edge's consumer still: with the sink held, [`PLUG_MESSAGES`] one-event requests on a
/// session of their own (one queue message each), then the wait until their delivery's export
/// waits at the sink. Messages sent after it wait in the queue until [`OtlpSink::release`].
fn plug(edge: &Edge, sink: &OtlpSink) -> Result<(), String> {
    let token = session(edge)?;
    let url = format!("{}/v1/events", edge.url);
    let ts = unix_ms();
    sink.hold();
    for n in 0..PLUG_MESSAGES {
        post_backlog_request(&url, &session_body(&token, ts, PLUG_IDS, n..n + 1), 1)?;
    }
    if sink.wait_for_held_export(PLUG_LIMIT) {
        Ok(())
    } else {
        Err(format!(
            "plug: no delivery reached the held sink within {}s",
            PLUG_LIMIT.as_secs()
        ))
    }
}

/// A fresh edge, warmed up, its consumer held by a plug while `events` new events are posted as
/// fast as it takes them, then let go: the time until it delivered them all to the sink.
fn backlog(work: &std::path::Path, events: usize) -> Result<Backlog, String> {
    let sink = OtlpSink::start().map_err(|e| e.to_string())?;
    let dir = format!("backlog-{events}");
    let (edge, tokens) = start_edge(work, &dir, sink_vars(&sink, "off"), backlog_sessions(events))?;
    warm_up(&edge, &sink)?;
    plug(&edge, &sink)?;
    let posting = Instant::now();
    post_backlog(&edge.url, &tokens, events)?;
    let post_s = posting.elapsed().as_secs_f64();
    sink.release();
    let released = Instant::now();
    let expected = WARM_UP_EVENTS + PLUG_MESSAGES + events;
    let limit = backlog_drain_limit(events);
    wait_for_sink(&sink, expected, limit).map_err(|held| {
        format!(
            "backlog of {events}: the sink held {held} of {expected} events {}s after the consumer was let go",
            limit.as_secs()
        )
    })?;
    let arrivals = sink.arrivals();
    let (bodies, drained) = reached_at(&arrivals, expected).ok_or("the sink lost events it held")?;
    let drain_s = drained.duration_since(released).as_secs_f64();
    // A delivery sent again would have counted twice and ended the wait early: the plug's, if
    // the hold outlasted the consumer's 10 s export timeout.
    let distinct = distinct_ids_in(&arrivals[..bodies]);
    if distinct != expected {
        return Err(format!(
            "backlog of {events}: the sink held {distinct} distinct events of {expected} when the wait ended: a \
             delivery was sent again (the consumer was held {post_s:.1} s; its export times out after 10 s)"
        ));
    }
    Ok(Backlog {
        events,
        post_s,
        drain_s,
    })
}

/// The events load once per entry of [`SESSION_COUNTS`] on one fresh edge, each over its own new
/// sessions (wrk's ids restart every run, so shared sessions would answer duplicates), each
/// after the previous run's backlog drained.
fn throughput_by_sessions(work: &std::path::Path) -> Result<Vec<SessionsRow>, String> {
    let sink = OtlpSink::start().map_err(|e| e.to_string())?;
    let total = SESSION_COUNTS.iter().sum();
    let (edge, tokens) = start_edge(work, "by-sessions", sink_vars(&sink, "off"), total)?;
    warm_up(&edge, &sink)?;
    let mut unused = tokens.as_slice();
    let mut accepted = WARM_UP_EVENTS;
    let mut rows = Vec::new();
    for sessions in SESSION_COUNTS {
        let (own, rest) = unused.split_at(sessions);
        unused = rest;
        let (figures, _, _) = measured_load(&edge, "events.lua", own, "2", CONNECTIONS)?;
        // Before the next row: each row's load starts with the consumer idle.
        let limit = backlog_drain_limit(accepted_events(&figures));
        accepted += accepted_events(&figures);
        wait_for_sink(&sink, accepted, limit).map_err(|held| {
            format!(
                "{sessions} sessions: the sink held {held} of {accepted} accepted events {}s after the load",
                limit.as_secs()
            )
        })?;
        rows.push(SessionsRow { sessions, figures });
    }
    Ok(rows)
}

/// "How cost grows": the backlogs' drain times and the load by session count, as one table.
fn print_cost_growth(backlogs: &[Backlog], by_sessions: &[SessionsRow]) {
    println!(
        "\nHow cost grows: backlogs of new events posted ({EVENTS_PER_REQUEST} a request, {POSTERS} at a time, \
         over up to {SESSIONS} sessions) to a fresh edge, once {WARM_UP_EVENTS} events went through it, while its \
         consumer was held (the sink kept one delivery's export unanswered), then the drain: from letting the \
         consumer go until it delivered them all; then the events load (wrk -t2 -c{CONNECTIONS} -d{DURATION}) \
         over new sessions on one fresh, warmed-up edge"
    );
    println!(
        "{:<26} {:>8} {:>10} {:>9} {:>10} {:>8} {:>8} {:>8} {:>8}",
        "", "post s", "drain s", "ms/1k ev", "+ms/1k ev", "req/s", "p50 ms", "p99 ms", "non-2xx"
    );
    let timed: Vec<(f64, usize)> = backlogs.iter().map(|b| (b.drain_s, b.events)).collect();
    let marginal = marginal_ms_per_thousand(&timed);
    for (b, more) in backlogs.iter().zip(&marginal) {
        println!(
            "{:<26} {:>8.1} {:>10.1} {:>9.1} {:>10} {:>8} {:>8} {:>8} {:>8}",
            format!("backlog of {} events", b.events),
            b.post_s,
            b.drain_s,
            ms_per_thousand(b.drain_s, b.events),
            more.map_or("-".to_owned(), |ms| format!("{ms:.1}")),
            "-",
            "-",
            "-",
            "-"
        );
    }
    for row in by_sessions {
        let f = &row.figures;
        println!(
            "{:<26} {:>8} {:>10} {:>9} {:>10} {:>8.1} {:>8.2} {:>8.2} {:>8}",
            format!(
                "events load, {} session{}",
                row.sessions,
                if row.sessions == 1 { "" } else { "s" }
            ),
            "-",
            "-",
            "-",
            "-",
            f.requests_per_second,
            f.p50_ms,
            f.p99_ms,
            f.non_2xx
        );
    }
    let per_thousand: Vec<f64> = backlogs.iter().map(|b| ms_per_thousand(b.drain_s, b.events)).collect();
    if let Some(spread) = spread_percent(&per_thousand) {
        println!(
            "ms per 1,000 events of the drain (from letting the consumer go until the sink held them all) spread {spread:.1} % \
             across the backlogs, max/min - 1 (goal: time per 1k events stays flat, within ±{FLATNESS_GOAL_PERCENT} %: {})",
            if spread <= FLATNESS_GOAL_PERCENT {
                "met"
            } else {
                "missed"
            }
        );
    }
    let more: Vec<f64> = marginal.iter().flatten().copied().collect();
    if let Some(spread) = spread_percent(&more) {
        println!(
            "+ms/1k ev: ms per 1,000 events a backlog's drain added over the one before it, what every drain \
             costs once taken out; spread {spread:.1} % (within ±{FLATNESS_GOAL_PERCENT} %: {})",
            if spread <= FLATNESS_GOAL_PERCENT { "yes" } else { "no" }
        );
    }
}

/// Measures and prints "how cost grows", each part on fresh edges.
pub fn cost_growth(work: &std::path::Path) -> Result<(), String> {
    let backlogs = BACKLOGS
        .iter()
        .map(|&events| backlog(work, events))
        .collect::<Result<Vec<_>, _>>()?;
    let by_sessions = throughput_by_sessions(work)?;
    print_cost_growth(&backlogs, &by_sessions);
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

    #[test]
    fn cost_growth_arithmetic() {
        assert_eq!(ms_per_thousand(2.5, 1_000), 2500.0);
        assert_eq!(ms_per_thousand(50.0, 50_000), 1000.0);
        assert_eq!(spread_percent(&[1000.0, 1200.0, 1100.0]), Some(19.999999999999996));
        assert_eq!(spread_percent(&[5.0]), Some(0.0));
        assert_eq!(spread_percent(&[]), None);
        assert_eq!(spread_percent(&[0.0, 1.0]), None);
        assert_eq!(
            marginal_ms_per_thousand(&[(0.8, 1_000), (5.0, 10_000), (19.0, 50_000)]),
            [None, Some(466.6666666666667), Some(350.0)]
        );
        assert_eq!(marginal_ms_per_thousand(&[(1.0, 1_000)]), [None]);
        assert_eq!(marginal_ms_per_thousand(&[(1.0, 1_000), (2.0, 1_000)]), [None, None]);
        let start = Instant::now();
        let arrivals: Vec<(Instant, String)> = [r#"{"event.id" "event.id"}"#, "{}", r#"{"event.id"}"#]
            .iter()
            .enumerate()
            .map(|(n, body)| (start + Duration::from_secs(n as u64), body.to_string()))
            .collect();
        assert_eq!(reached_at(&arrivals, 2), Some((1, start)));
        assert_eq!(reached_at(&arrivals, 3), Some((3, start + Duration::from_secs(2))));
        assert_eq!(reached_at(&arrivals, 4), None);
        let export = |id: &str| {
            format!(
                r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"timeUnixNano":"1","observedTimeUnixNano":"2","attributes":[{{"key":"event.id","value":{{"stringValue":"{id}"}}}}]}}]}}]}}]}}"#
            )
        };
        let sent_twice: Vec<(Instant, String)> = ["a", "b", "a"].iter().map(|id| (start, export(id))).collect();
        assert_eq!(distinct_ids_in(&sent_twice), 2);
        assert_eq!(distinct_ids_in(&sent_twice[..2]), 2);
        assert_eq!(distinct_ids_in(&[]), 0);
        assert_eq!(backlog_drain_limit(1_000), Duration::from_secs(60));
        assert_eq!(backlog_drain_limit(50_000), Duration::from_secs(600));
        assert_eq!((backlog_requests(1_000), backlog_sessions(1_000)), (10, 10));
        assert_eq!((backlog_requests(50_001), backlog_sessions(50_001)), (501, SESSIONS));
    }

    /// The event ids of an events request body.
    fn ids_of(body: &serde_json::Value) -> Vec<&str> {
        body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn backlog_bodies_carry_each_id_once_with_seq_counting_per_session() {
        let tokens: Vec<String> = vec!["a".into(), "b".into()];
        let events = 250;
        let bodies: Vec<(serde_json::Value, usize)> = (0..backlog_requests(events))
            .map(|r| backlog_body(r, events, &tokens, 7))
            .map(|(body, count)| (serde_json::from_str(&body).unwrap(), count))
            .collect();
        assert_eq!(bodies.iter().map(|(_, count)| count).sum::<usize>(), events);
        let ids: std::collections::HashSet<&str> = bodies.iter().flat_map(|(b, _)| ids_of(b)).collect();
        assert_eq!(ids.len(), events);
        assert!(ids.iter().all(|id| paylater_shared::telemetry::is_uuid(id)));
        let (third, count) = &bodies[2];
        assert_eq!((third["session_token"].as_str(), *count), (Some("a"), 50));
        assert_eq!(third["events"][0]["seq"], 100);
        assert_eq!(third["events"][0]["id"], "0190d2c5-0b10-7cc2-9a1e-0000000000c8");
        // The warm-up's and the plug's ids are valid and none is a backlog's or the other's.
        let warm: serde_json::Value =
            serde_json::from_str(&session_body("w", 7, WARM_UP_IDS, 0..WARM_UP_EVENTS)).unwrap();
        assert_eq!(warm["events"][WARM_UP_EVENTS - 1]["seq"], WARM_UP_EVENTS - 1);
        let plugs: Vec<serde_json::Value> = (0..PLUG_MESSAGES)
            .map(|n| serde_json::from_str(&session_body("p", 7, PLUG_IDS, n..n + 1)).unwrap())
            .collect();
        assert_eq!(plugs[3]["events"][0]["seq"], 3);
        let others: Vec<&str> = std::iter::once(&warm).chain(&plugs).flat_map(ids_of).collect();
        assert_eq!(others.len(), WARM_UP_EVENTS + PLUG_MESSAGES);
        assert_eq!(
            others.iter().collect::<std::collections::HashSet<_>>().len(),
            others.len()
        );
        assert!(
            others
                .iter()
                .all(|id| paylater_shared::telemetry::is_uuid(id) && !ids.contains(id))
        );
    }

    #[test]
    fn a_plug_is_one_full_delivery_of_the_events_consumer() {
        let config = std::fs::read_to_string(paths::workspace_root().join("wrangler.office.toml")).unwrap();
        let consumer = config
            .split("[[queues.consumers]]")
            .skip(1)
            .find(|c| c.contains("queue = \"paylater-events\"\n"))
            .unwrap();
        let size = consumer
            .lines()
            .find_map(|l| l.strip_prefix("max_batch_size = "))
            .unwrap();
        assert_eq!(size.trim().parse::<usize>().unwrap(), PLUG_MESSAGES);
    }
}
