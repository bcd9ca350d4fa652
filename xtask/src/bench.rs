//! `cargo xtask bench`: the figures we quote: the shipped sizes (raw, gzip, brotli) of the widget
//! and the edge bundle, measured on the release build, and the hot paths of the domain core and
//! the edge (criterion); later issues add latencies.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use paylater_harness::paths;

use crate::{build, tools};

/// Compressed size through a Debian CLI (`gzip -9` or `brotli -q 11`), as a CDN would serve it.
fn compressed_len(bytes: &[u8], program: &str, args: &[&str]) -> Result<usize, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().map_err(|e| format!("{program}: {e}"))?;
    writer
        .join()
        .map_err(|_| "writer panicked")?
        .map_err(|e| format!("{program}: {e}"))?;
    Ok(output.stdout.len())
}

struct Sizes {
    raw: usize,
    gzip: usize,
    brotli: usize,
}

fn sizes(files: &[&Path]) -> Result<Sizes, String> {
    let mut total = Sizes {
        raw: 0,
        gzip: 0,
        brotli: 0,
    };
    for file in files {
        let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        total.raw += bytes.len();
        total.gzip += compressed_len(&bytes, "gzip", &["-9", "-c"])?;
        total.brotli += compressed_len(&bytes, "brotli", &["-q", "11", "-c"])?;
    }
    Ok(total)
}

fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

const FIRST_PAINT: &str = "widget first paint (those four)";
/// The first paint's budget (issue 17): loader, card glue, card wasm and css, brotli 11.
pub const FIRST_PAINT_BUDGET_BYTES: usize = 60_000;

/// The first paint's files as built in `edge/assets/v1`.
fn first_paint_files(root: &Path) -> [std::path::PathBuf; 4] {
    let widget = root.join("edge/assets/v1");
    [
        widget.join("widget.js"),
        widget.join("widget/paylater_card.js"),
        widget.join("widget/paylater_card_bg.wasm"),
        widget.join("widget/widget.css"),
    ]
}

/// `cargo xtask test`'s size check: the release first paint within its brotli budget, or an
/// error naming both figures.
pub fn check_first_paint_budget() -> Result<(), String> {
    let files = first_paint_files(&paths::workspace_root());
    let files: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
    let brotli = sizes(&files)?.brotli;
    eprintln!(
        "widget first paint: {} brotli, budget {} ({:.2}×)",
        kb(brotli),
        kb(FIRST_PAINT_BUDGET_BYTES),
        brotli as f64 / FIRST_PAINT_BUDGET_BYTES as f64
    );
    if brotli > FIRST_PAINT_BUDGET_BYTES {
        return Err(format!(
            "the widget's first paint is {} brotli, over its {} budget",
            kb(brotli),
            kb(FIRST_PAINT_BUDGET_BYTES)
        ));
    }
    Ok(())
}
const EDGE_BUNDLE: &str = "edge bundle (JS + wasm)";

/// The widget in Chromium, against a real edge: time from the script tag to the terms painted,
/// and what the telemetry client costs per event.
pub fn paint() -> Result<(), String> {
    let work = std::env::temp_dir().join(format!("paylater-paint-{}", std::process::id()));
    let edge = paylater_harness::edge::Edge::start(paylater_harness::edge::EdgeOptions {
        config: None,
        port: None,
        work_dir: work.clone(),
        vars: Vec::new(),
    })
    .map_err(|e| e.to_string())?;
    println!();
    let node = |script: &str| {
        crate::cmd::run(
            Command::new("node")
                .current_dir(paths::workspace_root())
                .env("PATH", paths::tool_path())
                .env("EDGE_URL", &edge.url)
                .arg(script),
        )
    };
    let result = node("bench/widget-paint.mjs").and_then(|()| node("bench/telemetry.mjs"));
    drop(edge);
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// The events load alone, for iterating on the request path (`cargo xtask build` first).
pub fn load_only() -> Result<(), String> {
    tools::bootstrap()?;
    crate::load::run()
}

/// The widget's sizes and paint time alone (`cargo xtask bench widget`).
pub fn widget_only() -> Result<(), String> {
    let tools = tools::bootstrap()?;
    build::widget(&tools)?;
    sizes_report()?;
    paint()
}

pub fn run() -> Result<(), String> {
    let tools = tools::bootstrap()?;
    build::widget(&tools)?;
    build::edge(&tools)?;
    sizes_report()?;
    paint()?;
    let root = paths::workspace_root();
    println!("\ndomain core and edge (criterion): schedules, a merchant's offers and a 100-event batch");
    // The shared core's bench, then the edge's (the offers and the batch parser are the edge's).
    for (package, bench) in [("paylater-shared", "core"), ("paylater-edge", "requests")] {
        crate::cmd::run(
            paylater_harness::paths::offline(&mut Command::new("cargo"))
                .current_dir(&root)
                .args([
                    "bench",
                    "-p",
                    package,
                    "--bench",
                    bench,
                    "--",
                    "--warm-up-time",
                    "1",
                    "--measurement-time",
                    "3",
                ]),
        )?;
    }
    println!("\nanomaly detection (edge/benches/anomalies.rs)");
    crate::cmd::run(
        paylater_harness::paths::offline(&mut Command::new("cargo"))
            .current_dir(&root)
            .args(["bench", "-p", "paylater-edge", "--bench", "anomalies"]),
    )?;
    crate::load::run()
}

/// Shipped sizes: raw, gzip and brotli of each widget file, the first paint, and the edge.
fn sizes_report() -> Result<(), String> {
    let root = paths::workspace_root();
    let widget = root.join("edge/assets/v1");
    let [loader, glue, wasm, css] = first_paint_files(&root);
    let dialog_glue = widget.join("widget/paylater_widget.js");
    let dialog_wasm = widget.join("widget/paylater_widget_bg.wasm");
    let edge_js = root.join("edge/build/index.js");
    let edge_wasm = root.join("edge/build/index_bg.wasm");
    let rows: [(&str, Vec<&Path>); 8] = [
        ("widget loader (widget.js)", vec![&loader]),
        ("card JS glue", vec![&glue]),
        ("card wasm", vec![&wasm]),
        ("widget css", vec![&css]),
        (FIRST_PAINT, vec![&loader, &glue, &wasm, &css]),
        ("dialog (on idle / Learn more)", vec![&dialog_glue, &dialog_wasm]),
        ("edge worker JS", vec![&edge_js]),
        (EDGE_BUNDLE, vec![&edge_js, &edge_wasm]),
    ];
    println!("\n{:<32} {:>11} {:>11} {:>11}", "size", "raw", "gzip -9", "brotli 11");
    let mut measured = Vec::with_capacity(rows.len());
    for (name, files) in rows {
        let s = sizes(&files)?;
        println!("{name:<32} {:>11} {:>11} {:>11}", kb(s.raw), kb(s.gzip), kb(s.brotli));
        measured.push((name, s));
    }
    let row = |wanted: &str| measured.iter().find(|(name, _)| *name == wanted).map(|(_, s)| s);
    let first_paint = row(FIRST_PAINT).ok_or("no first-paint row")?;
    println!(
        "\nwidget first paint vs 60 KB brotli budget: {:.2}×",
        first_paint.brotli as f64 / FIRST_PAINT_BUDGET_BYTES as f64
    );
    let edge = row(EDGE_BUNDLE).ok_or("no edge-bundle row")?;
    println!(
        "edge bundle vs 300 KB gzip target: {:.2}× (vs 3 MB free-plan limit: {:.3}×)",
        edge.gzip as f64 / 300_000.0,
        edge.gzip as f64 / 3_000_000.0
    );
    Ok(())
}
