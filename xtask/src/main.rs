//! `cargo xtask <task>`: the project's automation, in Rust (see matklad/cargo-xtask).
//!
//! # Layout
//! - [`tools`]: installs the pinned, offline toolchain (idempotent).
//! - [`build`]: the widget bundle, the edge bundle and the example merchant server.
//! - [`demo`]: edge + demo page + merchant server, until Ctrl-C.
//! - [`test`]: every check and test, in order.
//! - [`bench`]: the figures we quote (sizes now; latencies as they come).
//! - [`load`]: `wrk` against `POST /v1/events` and a no-op worker, as a ratio.
//! - [`cmd`]: running child commands, failing loudly.
//! - [`interrupt`]: Ctrl-C stops our servers instead of orphaning them.

mod bench;
mod build;
mod cmd;
mod demo;
mod demo_traffic;
mod interrupt;
mod load;
mod runtime_cpu;
mod test;
mod tools;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  bootstrap      install every pinned tool that is missing (apt, npm, cargo); idempotent
  build          build the widget bundle and the edge bundle (release, optimized)
  build-widget   build only the widget bundles (card and dialog) into edge/assets/v1/
  build-edge     build only the edge's two Workers into edge/build/{shop,office}/ (and checkout assets)
  demo           build, start the edge on 127.0.0.1:8787, the demo page on 127.0.0.1:8080 and
                 the example merchant server on 127.0.0.1:8790
  test           run every check and test (what CI runs)
  e2e [SPEC…]    build the bundles, then only the Playwright specs (all, or the given files)
  bench          print the figures: bundle sizes (raw, gzip, brotli), core latencies, events load
  bench load     only the events load, on the bundles already built
  bench widget   only the widget: sizes and time from script tag to terms painted (Chromium)
  bench growth   only how cost grows: drain time by backlog, events load by sessions (after build)
  replay-dead-letters EDGE_URL
                 send a merchant's parked dead letters back to the events queue;
                 needs PAYLATER_SECRET_KEY (a key of that merchant with logs:replay)";

fn replay_dead_letters(edge_url: Option<&str>) -> Result<(), String> {
    let edge_url = edge_url.ok_or("give the edge's URL, e.g. https://paylater-edge.example.workers.dev")?;
    let key = std::env::var("PAYLATER_SECRET_KEY")
        .map_err(|_| "set PAYLATER_SECRET_KEY to a secret key of the merchant with the logs:replay scope")?;
    let replayed = paylater_harness::admin::replay_dead_letters(edge_url, &key).map_err(|e| e.to_string())?;
    println!("replayed {replayed} dead letters into the events queue");
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("");
    interrupt::install();
    let result = match task {
        "bootstrap" => tools::bootstrap().map(|_| ()),
        "build" => tools::bootstrap().and_then(|tools| build::widget(&tools).and_then(|()| build::edge(&tools))),
        "build-widget" => tools::bootstrap().and_then(|tools| build::widget(&tools)),
        "build-edge" => tools::bootstrap().and_then(|tools| build::edge(&tools)),
        "demo" => demo::run(),
        "test" => test::run(),
        "e2e" => test::end_to_end_only(&args[1..]),
        "bench" if args.get(1).is_some_and(|a| a == "load") => bench::load_only(),
        "bench" if args.get(1).is_some_and(|a| a == "widget") => bench::widget_only(),
        "bench" if args.get(1).is_some_and(|a| a == "growth") => bench::growth_only(),
        "bench" => bench::run(),
        "replay-dead-letters" => replay_dead_letters(args.get(1).map(String::as_str)),
        "" | "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown task {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {task}: {message}");
            ExitCode::FAILURE
        }
    }
}
