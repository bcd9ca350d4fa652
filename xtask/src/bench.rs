//! `cargo xtask bench`: the figures we quote: the shipped sizes (raw, gzip, brotli) of the widget
//! and the edge bundle, measured on the release build, and the hot paths of the domain core and
//! the edge (criterion); later issues add latencies.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use paylater_harness::paths;

use crate::build::EdgeWorker;
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
const DIALOG: &str = "dialog (on idle / Learn more)";
const SHOP_WORKER: &str = "shop worker (JS + wasm)";
const OFFICE_WORKER: &str = "back office worker (JS + wasm)";

/// The first paint's files as built in `edge/assets/v1`.
fn first_paint_files(root: &Path) -> [PathBuf; 4] {
    let widget = root.join("edge/assets/v1");
    [
        widget.join("widget.js"),
        widget.join("widget/paylater_card.js"),
        widget.join("widget/paylater_card_bg.wasm"),
        widget.join("widget/widget.css"),
    ]
}

fn dialog_files(root: &Path) -> [PathBuf; 2] {
    let widget = root.join("edge/assets/v1/widget");
    [
        widget.join("paylater_widget.js"),
        widget.join("paylater_widget_bg.wasm"),
    ]
}

fn worker_files(worker: EdgeWorker) -> [PathBuf; 2] {
    let dir = worker.build_dir();
    [dir.join("index.js"), dir.join("index_bg.wasm")]
}

#[derive(Clone, Copy)]
enum Compression {
    Gzip,
    Brotli,
}

/// A shipped bundle's size limit: `ceiling` fails `cargo xtask test` (so no change makes it
/// worse); `goal` is issue 20's budget, printed beside it until the ceiling comes down to it
/// (the first paint's has: its ceiling is its goal).
struct Budget {
    name: &'static str,
    files: Vec<PathBuf>,
    compression: Compression,
    ceiling: usize,
    goal: usize,
}

fn budgets(root: &Path) -> [Budget; 3] {
    [
        Budget {
            name: FIRST_PAINT,
            files: first_paint_files(root).to_vec(),
            compression: Compression::Brotli,
            ceiling: 50_000,
            goal: 50_000,
        },
        Budget {
            name: DIALOG,
            files: dialog_files(root).to_vec(),
            compression: Compression::Brotli,
            ceiling: 211_500,
            goal: 150_000,
        },
        Budget {
            name: SHOP_WORKER,
            files: worker_files(EdgeWorker::Shop).to_vec(),
            compression: Compression::Gzip,
            ceiling: 358_700,
            goal: 300_000,
        },
    ]
}

/// `cargo xtask test`'s size check on the release bundles: each within its ceiling (printed with
/// its goal), or an error naming every one that is not.
pub fn check_size_budgets() -> Result<(), String> {
    let mut over = Vec::new();
    for budget in budgets(&paths::workspace_root()) {
        let files: Vec<&Path> = budget.files.iter().map(|f| f.as_path()).collect();
        let measured = sizes(&files)?;
        let (size, unit) = match budget.compression {
            Compression::Gzip => (measured.gzip, "gzip"),
            Compression::Brotli => (measured.brotli, "brotli"),
        };
        eprintln!(
            "{:<32} {} {unit}: ceiling {} ({:.2}×), goal {} ({:.2}×)",
            budget.name,
            kb(size),
            kb(budget.ceiling),
            size as f64 / budget.ceiling as f64,
            kb(budget.goal),
            size as f64 / budget.goal as f64
        );
        if size > budget.ceiling {
            over.push(format!(
                "{} is {} {unit}, over its {} ceiling",
                budget.name,
                kb(size),
                kb(budget.ceiling)
            ));
        }
    }
    if over.is_empty() { Ok(()) } else { Err(over.join("; ")) }
}

/// The widget in Chromium, against a real edge: time from the script tag to the terms painted,
/// and what the telemetry client costs per event.
pub fn paint() -> Result<(), String> {
    let work = std::env::temp_dir().join(format!("paylater-paint-{}", std::process::id()));
    let edge = paylater_harness::edge::Edge::start(paylater_harness::edge::EdgeOptions {
        config_changes: Vec::new(),
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

/// "How cost grows" alone (`cargo xtask bench growth`, after `cargo xtask build`): the drain
/// time by backlog and the events load by session count.
pub fn growth_only() -> Result<(), String> {
    tools::bootstrap()?;
    let work = std::env::temp_dir().join(format!("paylater-bench-growth-{}", std::process::id()));
    let result = crate::load::cost_growth(&work);
    let _ = std::fs::remove_dir_all(&work);
    result
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

/// Shipped sizes: raw, gzip and brotli of each widget file, the first paint, the dialog and the
/// edge's two Workers, then the budgets.
fn sizes_report() -> Result<(), String> {
    let root = paths::workspace_root();
    let [loader, glue, wasm, css] = first_paint_files(&root);
    let [dialog_glue, dialog_wasm] = dialog_files(&root);
    let [shop_js, shop_wasm] = worker_files(EdgeWorker::Shop);
    let [office_js, office_wasm] = worker_files(EdgeWorker::Office);
    let rows: [(&str, Vec<&Path>); 9] = [
        ("widget loader (widget.js)", vec![&loader]),
        ("card JS glue", vec![&glue]),
        ("card wasm", vec![&wasm]),
        ("widget css", vec![&css]),
        (FIRST_PAINT, vec![&loader, &glue, &wasm, &css]),
        (DIALOG, vec![&dialog_glue, &dialog_wasm]),
        ("shop worker JS", vec![&shop_js]),
        (SHOP_WORKER, vec![&shop_js, &shop_wasm]),
        (OFFICE_WORKER, vec![&office_js, &office_wasm]),
    ];
    println!("\n{:<32} {:>11} {:>11} {:>11}", "size", "raw", "gzip -9", "brotli 11");
    for (name, files) in rows {
        let s = sizes(&files)?;
        println!("{name:<32} {:>11} {:>11} {:>11}", kb(s.raw), kb(s.gzip), kb(s.brotli));
    }
    println!("\nbudgets (a bundle over its ceiling fails `cargo xtask test`):");
    check_size_budgets()
}
