//! `cargo xtask test`: every check and test, cheapest first, stopping at the first failure.
//! This is what `.ci/run` runs. Every test layer counts the tests it ran and fails when that is
//! none, since the runners themselves pass when they find nothing to run.

mod counts;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use counts::{Counter, Runner};

use paylater_harness::demo::{DemoPage, Rebuild};
use paylater_harness::edge::{Edge, EdgeOptions};
use paylater_harness::merchant_server::{MerchantServer, MerchantServerOptions};
use paylater_harness::paths;
use paylater_harness::ports;
use paylater_harness::sink::OtlpSink;

use crate::{build, cmd, interrupt, tools};
use paylater_harness::paths::offline;

fn cargo() -> Command {
    let mut command = Command::new("cargo");
    offline(&mut command).current_dir(paths::workspace_root());
    command
}

const NATIVE_TESTS: &str = "unit and property tests (native)";
const WASM_TESTS: &str = "widget component tests (wasm-bindgen-test, headless Chromium)";
const EDGE_TESTS: &str = "edge integration tests (wrangler dev)";
const END_TO_END_TESTS: &str =
    "end-to-end tests (Chromium via Playwright, Firefox ESR, WebKitGTK; trunk serve + wrangler dev + merchant server)";

fn step(name: &str, timings: &mut Vec<(String, f64)>, f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    if interrupt::interrupted() {
        return Err(format!("{name}: not started, interrupted"));
    }
    eprintln!("\n=== {name}");
    let started = Instant::now();
    let result = f();
    timings.push((name.to_owned(), started.elapsed().as_secs_f64()));
    result.map_err(|e| format!("{name}: {e}"))
}

pub fn run() -> Result<(), String> {
    let mut timings = Vec::new();
    let total = Instant::now();
    // The checks and native tests need only cargo and the wasm target: the rest of the toolchain
    // (cold, minutes of `cargo install`, apt and npm) installs meanwhile, on a thread of its own.
    step("wasm target", &mut timings, tools::ensure_wasm_target)?;
    let installing = std::thread::spawn(tools::bootstrap);
    let checked = (|| {
        step("cargo fmt --check", &mut timings, || {
            cmd::run(cargo().args(["fmt", "--all", "--check"]))
        })?;
        step("clippy (native)", &mut timings, || {
            cmd::run(cargo().args([
                "clippy",
                "--workspace",
                "--exclude",
                "paylater-widget",
                "--exclude",
                "paylater-widget-card",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        })?;
        step("clippy (wasm32)", &mut timings, || {
            let wasm_clippy = ["clippy", "--target", "wasm32-unknown-unknown"];
            // These crates' tests use proptest, which has no entropy source on wasm32: their tests
            // run natively.
            cmd::run(cargo().args(wasm_clippy).args([
                "-p",
                "paylater-shared",
                "-p",
                "paylater-widget-outbox",
                "--lib",
                "--",
                "-D",
                "warnings",
            ]))?;
            // The edge's two Workers, each with its own feature.
            for worker in build::EdgeWorker::ALL {
                cmd::run(cargo().args(wasm_clippy).args([
                    "-p",
                    "paylater-edge",
                    "--lib",
                    "--features",
                    worker.feature(),
                    "--",
                    "-D",
                    "warnings",
                ]))?;
            }
            cmd::run(cargo().args(wasm_clippy).args([
                "-p",
                "paylater-widget-card",
                "-p",
                "paylater-widget",
                "-p",
                "paylater-dashboard",
                "--features",
                "paylater-widget-card/small-allocator",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        })?;
        step(NATIVE_TESTS, &mut timings, || {
            run_counted(
                NATIVE_TESTS,
                Runner::Cargo,
                cargo().args([
                    "test",
                    "--workspace",
                    "--exclude",
                    "paylater-widget",
                    "--exclude",
                    "paylater-widget-card",
                    "--exclude",
                    "paylater-tests",
                ]),
            )
        })?;
        Ok::<(), String>(())
    })();
    // Even after a failed check: a process that exits leaves its `cargo install`s running.
    let mut tools = None;
    let bootstrapped = step("bootstrap (what was left of it)", &mut timings, || {
        let installed = installing
            .join()
            .map_err(|_| "the bootstrap thread panicked".to_owned())?;
        installed.map(|t| tools = Some(t))
    });
    checked?;
    bootstrapped?;
    let tools = tools.ok_or("bootstrap returned no tools")?;
    // wasm-bindgen-test-runner prints libtest's `test result:` lines, so cargo's counting holds.
    step(WASM_TESTS, &mut timings, || {
        run_counted(
            WASM_TESTS,
            Runner::Cargo,
            cargo()
                .args(["test", "-p", "paylater-widget-card", "-p", "paylater-widget"])
                .args(["--target", "wasm32-unknown-unknown"])
                .env("CHROMEDRIVER", "/usr/bin/chromedriver")
                .env("WASM_BINDGEN_TEST_TIMEOUT", "60"),
        )
    })?;
    step("release bundles (widget + edge, wasm-opt)", &mut timings, || {
        build::widget(&tools).and_then(|()| build::edge(&tools))
    })?;
    step("size budgets", &mut timings, crate::bench::check_size_budgets)?;
    step(EDGE_TESTS, &mut timings, edge_tests)?;
    step(END_TO_END_TESTS, &mut timings, || end_to_end(&[]))?;
    eprintln!("\n=== timings");
    for (name, seconds) in &timings {
        eprintln!("{seconds:8.1} s  {name}");
    }
    eprintln!("{:8.1} s  total", total.elapsed().as_secs_f64());
    Ok(())
}

/// Integration test binaries run at once: each mostly waits on its own `wrangler dev`, its queue
/// and its sleeps, so two share the two cores well.
const PARALLEL_BINARIES: usize = 2;

/// The edge's integration tests (`tests/tests/*.rs`), built as cargo would, then run
/// [`PARALLEL_BINARIES`] binaries at a time, each binary's output printed whole when it ends.
fn edge_tests() -> Result<(), String> {
    // The audit tests run the verifier's binary, as an auditor would.
    build::native_binaries()?;
    cmd::run(cargo().args(["test", "-p", "paylater-tests", "--no-run"]))?;
    let listing = cargo()
        .args(["test", "-p", "paylater-tests", "--no-run", "--message-format=json"])
        .output()
        .map_err(|e| format!("listing the integration tests: {e}"))?;
    let binaries = test_binaries(&String::from_utf8_lossy(&listing.stdout));
    if binaries.is_empty() {
        return Err("no integration test binaries were built".into());
    }
    let tests_dir = paths::workspace_root().join("tests");
    let queue = std::sync::Mutex::new(binaries.into_iter());
    let finished = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL_BINARIES {
            scope.spawn(|| {
                while let Some(binary) = queue.lock().ok().and_then(|mut q| q.next()) {
                    let started = Instant::now();
                    let output = Command::new(&binary).current_dir(&tests_dir).output();
                    let took = started.elapsed().as_secs_f64();
                    // Printed as each ends, so a slow binary's neighbours are seen at once.
                    let name = binary
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    match &output {
                        Ok(out) => eprintln!(
                            "--- {name} ({took:.1} s)\n{}{}",
                            String::from_utf8_lossy(&out.stdout),
                            String::from_utf8_lossy(&out.stderr)
                        ),
                        Err(e) => eprintln!("--- {name}: could not start: {e}"),
                    }
                    if let Ok(mut all) = finished.lock() {
                        all.push((name, output));
                    }
                }
            });
        }
    });
    let mut counter = Counter::new(Runner::Cargo);
    let mut failed = Vec::new();
    for (name, output) in finished.into_inner().map_err(|_| "a test runner thread panicked")? {
        match output {
            Ok(out) => {
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .for_each(|line| counter.line(line));
                if !out.status.success() {
                    failed.push(name);
                }
            }
            Err(_) => failed.push(name),
        }
    }
    let counts = counter.counts();
    eprintln!("{EDGE_TESTS}: {} tests ran", counts.ran());
    if !failed.is_empty() {
        return Err(format!("failed: {}", failed.join(", ")));
    }
    if counts.ran() == 0 {
        return Err("no tests ran: a test layer that runs nothing fails".into());
    }
    Ok(())
}

/// The test executables in `cargo test --no-run --message-format=json` output (integration
/// test targets only: the library's own unit tests are none here).
fn test_binaries(json_lines: &str) -> Vec<std::path::PathBuf> {
    json_lines
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact"
                && message["profile"]["test"] == true
                && message["target"]["kind"][0] == "test"
        })
        .filter_map(|message| message["executable"].as_str().map(std::path::PathBuf::from))
        .collect()
}

/// `cargo xtask e2e [SPEC…]`: the bundles, then the end-to-end step alone, for all specs or
/// the given ones (paths like `tests/e2e/telemetry.spec.mjs`).
pub fn end_to_end_only(specs: &[String]) -> Result<(), String> {
    let tools = tools::bootstrap()?;
    build::widget(&tools).and_then(|()| build::edge(&tools))?;
    end_to_end(specs)
}

/// Runs one test layer with its output live, prints how many tests it ran, and fails it when
/// that is none.
fn run_counted(layer: &str, runner: Runner, command: &mut Command) -> Result<(), String> {
    let mut counter = Counter::new(runner);
    let result = cmd::run_tee(command, |line| counter.line(line));
    let counts = counter.counts();
    match counts.skipped {
        0 => eprintln!("{layer}: {} tests ran", counts.ran()),
        skipped => eprintln!("{layer}: {} tests ran, {skipped} skipped", counts.ran()),
    }
    result?;
    if counts.ran() == 0 {
        return Err("no tests ran: a test layer that runs nothing fails".into());
    }
    Ok(())
}

/// `tests/e2e/*.spec.mjs`, expanded here: `node --test` given a pattern that matches no file
/// runs nothing and passes.
fn all_specs(root: &Path) -> Result<Vec<String>, String> {
    let dir = root.join("tests/e2e");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot list the specs in {}: {e}", dir.display()))?;
    let mut specs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list the specs in {}: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".spec.mjs") && entry.path().is_file() {
            specs.push(format!("tests/e2e/{name}"));
        }
    }
    if specs.is_empty() {
        return Err(format!("no Playwright spec (*.spec.mjs) in {}", dir.display()));
    }
    specs.sort();
    Ok(specs)
}

/// Starts an edge, the example merchant server and the demo page (whose Place order posts to
/// that server) on free ports, runs the Playwright specs (`specs`, or all) against them, and
/// stops them all whatever the outcome.
fn end_to_end(specs: &[String]) -> Result<(), String> {
    let root = paths::workspace_root();
    // Checked before any server starts, so a missing spec fails at once.
    let specs = if specs.is_empty() {
        all_specs(&root)?
    } else {
        specs.to_vec()
    };
    if let Some(missing) = specs.iter().find(|spec| !root.join(spec).is_file()) {
        return Err(format!("no such spec: {missing}"));
    }
    // A plain native build, quick when nothing changed; the harness only starts the binary.
    build::native_binaries()?;
    let work = root.join("target/e2e");
    let _ = std::fs::remove_dir_all(&work);
    // The log sink the telemetry specs read records from (`SINK_URL`).
    let sink = OtlpSink::start().map_err(|e| e.to_string())?;
    let edge = Edge::start(EdgeOptions {
        config_changes: Vec::new(),
        port: None,
        work_dir: work.join("edge"),
        vars: vec![("LOG_SINK_URL".into(), sink.url.clone())],
    })
    .map_err(|e| e.to_string())?;
    // The demo's week of traffic, for the dashboard's spec (its figures in SEEDED_WEEK).
    let seeded = crate::demo_traffic::seed(&edge.url, &edge.state_dir, &work.join("edge"))?;
    crate::demo_traffic::wait_until_counted(&edge.url, &seeded, std::time::Duration::from_secs(240))?;
    let seeded_file = work.join("seeded-week.json");
    std::fs::write(&seeded_file, serde_json::to_string(&seeded).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    // The page's port first: the merchant server answers browser calls from that origin only,
    // and the page learns the merchant server's URL.
    let page_port = ports::free_port().map_err(|e| e.to_string())?;
    let merchant = MerchantServer::start(MerchantServerOptions {
        edge_url: edge.url.clone(),
        port: None,
        allowed_origin: format!("http://127.0.0.1:{page_port}"),
        work_dir: work.join("merchant-server"),
    })
    .map_err(|e| e.to_string())?;
    let page = DemoPage::start(
        &edge.url,
        Some(page_port),
        work.join("page"),
        Rebuild::Never,
        Some(&merchant.url),
    )
    .map_err(|e| e.to_string())?;
    let artifacts = root.join("tests/e2e/artifacts");
    std::fs::create_dir_all(&artifacts).map_err(|e| e.to_string())?;
    // TAP, whatever the terminal: its summary (`# pass N`) is what the count reads.
    let result = run_counted(
        END_TO_END_TESTS,
        Runner::Node,
        Command::new("node")
            .current_dir(&root)
            .env("PATH", paths::tool_path())
            .args(["--test", "--test-concurrency=1", "--test-reporter=tap"])
            .args(&specs)
            .env("DEMO_URL", &page.url)
            .env("EDGE_URL", &edge.url)
            .env("EDGE_LOG", edge.log_path())
            .env("MERCHANT_SERVER_URL", &merchant.url)
            .env("SINK_URL", sink.records_url())
            .env("SEEDED_WEEK", &seeded_file)
            .env("ARTIFACTS_DIR", &artifacts),
    );
    if result.is_err() {
        eprintln!("--- edge log (tail)\n{}", tail(&edge.log_text(), 60));
        eprintln!("--- trunk log (tail)\n{}", tail(&page.log_text(), 60));
        eprintln!("--- merchant server log (tail)\n{}", tail(&merchant.log_text(), 60));
    }
    drop(page);
    drop(merchant);
    drop(edge);
    result
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_integration_test_executables_are_run() {
        let lines = [
            r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"paylater_tests"},"profile":{"test":false},"executable":null}"#,
            r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"paylater_tests"},"profile":{"test":true},"executable":"/t/deps/paylater_tests-1"}"#,
            r#"{"reason":"compiler-artifact","target":{"kind":["test"],"name":"orders"},"profile":{"test":true},"executable":"/t/deps/orders-2"}"#,
            r#"{"reason":"compiler-message","message":{"rendered":"warning"}}"#,
            "not json",
            r#"{"reason":"compiler-artifact","target":{"kind":["test"],"name":"insights"},"profile":{"test":true},"executable":"/t/deps/insights-3"}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        assert_eq!(
            test_binaries(&lines),
            [
                std::path::PathBuf::from("/t/deps/orders-2"),
                std::path::PathBuf::from("/t/deps/insights-3")
            ]
        );
    }
}
