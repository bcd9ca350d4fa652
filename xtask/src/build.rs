//! Release bundles: the widget (served by the edge as static assets) and the edge worker.
//! Both go through wasm-opt, because what ships is what the end-to-end tests load. And the
//! example merchant server, a plain native debug build.

use std::path::{Path, PathBuf};
use std::process::Command;

use paylater_harness::paths;
use paylater_harness::paths::offline;

use crate::cmd;
use crate::tools::Tools;

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The widget's two wasm bundles: the card painted first, and the dialog loaded on demand; and
/// the merchant dashboard's, served only to its own page (`GET /dashboard`). Each with the cargo
/// profile it measured smallest with: the card on `release` (its own crate at "z"), the dialog
/// and the dashboard on `compact` (every crate at "z": the dialog 232.3 → 211.8 KB brotli, where
/// the card came out 1.2 KB larger).
const WIDGET_BUNDLES: [(&str, &str, &str); 2] = [
    (CARD_PACKAGE, "paylater_card", "release"),
    ("paylater-widget", "paylater_widget", COMPACT_PROFILE),
];
const DASHBOARD_BUNDLE: (&str, &str, &str) = ("paylater-dashboard", "paylater_dashboard", COMPACT_PROFILE);

const CARD_PACKAGE: &str = "paylater-widget-card";

/// The cargo profile with every crate at opt-level "z" (`Cargo.toml`).
const COMPACT_PROFILE: &str = "compact";

/// Builds `edge/assets/v1/widget.js` (the loader), `edge/assets/v1/widget/*` (each bundle's
/// glue and wasm, and the css) and `edge/assets/dashboard/*` (the dashboard's glue, wasm, boot
/// script and css). One cargo build per profile: the dialog and the dashboard share their
/// leptos and web-sys builds.
pub fn widget(tools: &Tools) -> Result<(), String> {
    let root = paths::workspace_root();
    for profile in ["release", COMPACT_PROFILE] {
        let packages: Vec<&str> = WIDGET_BUNDLES
            .iter()
            .chain([&DASHBOARD_BUNDLE])
            .filter(|bundle| bundle.2 == profile)
            .map(|bundle| bundle.0)
            .collect();
        let mut build = Command::new("cargo");
        offline(build.current_dir(&root)).args(["build", "--profile", profile, "--target", WASM_TARGET]);
        for package in &packages {
            build.args(["-p", package]);
        }
        if packages.contains(&CARD_PACKAGE) {
            // Features unify within a build: the card's allocator would reach any bundle beside it.
            if packages.len() > 1 {
                return Err(format!(
                    "the card must build alone (its small allocator), not with {packages:?}"
                ));
            }
            build.args(["--features", "paylater-widget-card/small-allocator"]);
        }
        cmd::run(&mut build)?;
    }
    let target_dir = root.join("target");
    let staging = target_dir.join("widget-bundle");
    let out = root.join("edge/assets/v1/widget");
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let dashboard_out = root.join("edge/assets/dashboard");
    std::fs::create_dir_all(&dashboard_out).map_err(|e| format!("creating {}: {e}", dashboard_out.display()))?;
    let bundles: Vec<(&str, &Path, &str)> = WIDGET_BUNDLES
        .iter()
        .map(|(_, name, profile)| (*name, out.as_path(), *profile))
        .chain([(DASHBOARD_BUNDLE.1, dashboard_out.as_path(), DASHBOARD_BUNDLE.2)])
        .collect();
    for (name, out, profile) in &bundles {
        let raw_wasm = target_dir.join(WASM_TARGET).join(profile).join(format!("{name}.wasm"));
        cmd::run(
            offline(&mut Command::new(&tools.wasm_bindgen))
                .args(["--target", "web", "--no-typescript", "--out-name", name, "--out-dir"])
                .arg(&staging)
                .arg(&raw_wasm),
        )?;
        minify(
            tools,
            &staging.join(format!("{name}.js")),
            &out.join(format!("{name}.js")),
        )?;
    }
    // wasm-opt (binaryen's, on Node) works one thread a file: the bundles side by side.
    let staging = staging.as_path();
    let optimized: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let runs: Vec<_> = bundles
            .iter()
            .map(|(name, out, _)| {
                scope.spawn(move || {
                    cmd::run(
                        offline(&mut Command::new(&tools.wasm_opt))
                            .args(WASM_OPT_PASSES)
                            .args(WASM_FEATURES)
                            .arg(staging.join(format!("{name}_bg.wasm")))
                            .arg("-o")
                            .arg(out.join(format!("{name}_bg.wasm"))),
                    )
                })
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().unwrap_or_else(|_| Err("a wasm-opt thread panicked".into())))
            .collect()
    });
    optimized.into_iter().collect::<Result<Vec<()>, String>>()?;
    minify(tools, &root.join("widget/style/widget.css"), &out.join("widget.css"))?;
    minify(
        tools,
        &root.join("dashboard/web/dashboard.css"),
        &dashboard_out.join("dashboard.css"),
    )?;
    minify(
        tools,
        &root.join("dashboard/web/boot.js"),
        &dashboard_out.join("boot.js"),
    )?;
    copy(&root.join("dashboard/web/icon.svg"), &dashboard_out.join("icon.svg"))?;
    minify(
        tools,
        &root.join("widget/loader/widget.js"),
        &root.join("edge/assets/v1/widget.js"),
    )
}

/// What the browser fetches is minified (esbuild, from `package-lock.json`): the sources keep
/// their comments, the first paint's budget counts only what ships. A script stays a classic
/// script and a module a module: esbuild transforms one file and bundles nothing.
fn minify(tools: &Tools, from: &Path, to: &Path) -> Result<(), String> {
    cmd::run(
        offline(&mut Command::new(&tools.esbuild))
            .arg(from)
            .args(["--minify", "--log-level=warning", "--legal-comments=none"])
            .arg(format!("--outfile={}", to.display())),
    )
}

/// `-Oz` twice: the second pass still takes about 1 % off; and nothing lives below address 1024
/// (Rust puts its stack and data from 1 MiB up), which lets wasm-opt fold constant offsets.
/// Measured: card 50.9 → 50.2 KB brotli, dialog 232.3 → 230.2, shop 391.5 → 387.7 KB gzip.
const WASM_OPT_PASSES: [&str; 3] = ["--low-memory-unused", "-Oz", "-Oz"];

/// The features rustc 1.95 enables for wasm32 by default, so wasm-opt accepts and keeps them.
const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Copies the checkout page's hand-written script and stylesheet (`edge/checkout/`) to
/// `edge/assets/v1/checkout/`, where Workers static assets serve them beside the page's route.
pub fn checkout_assets() -> Result<(), String> {
    let root = paths::workspace_root();
    let out = root.join("edge/assets/v1/checkout");
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    for name in ["checkout.js", "checkout.css"] {
        copy(&root.join("edge/checkout").join(name), &out.join(name))?;
    }
    Ok(())
}

/// Builds the edge's two Workers into `edge/build/{shop,office}/` with worker-build, pointed at the pinned local binaries so it downloads
/// nothing, and puts the checkout page's assets in place (they belong to the edge, and every
/// task that starts one builds it first).
pub fn edge(tools: &Tools) -> Result<(), String> {
    checkout_assets()?;
    for worker in EdgeWorker::ALL {
        edge_worker(tools, worker)?;
    }
    Ok(())
}

/// The two Workers the edge crate builds (its `shop` and `office` features).
#[derive(Clone, Copy)]
pub enum EdgeWorker {
    /// What shoppers and the widget wait on (`wrangler.toml`).
    Shop,
    /// The merchant's back office, behind the shop's service binding (`wrangler.office.toml`).
    Office,
}

impl EdgeWorker {
    pub const ALL: [Self; 2] = [Self::Shop, Self::Office];

    pub fn feature(self) -> &'static str {
        match self {
            Self::Shop => "shop",
            Self::Office => "office",
        }
    }

    /// Where worker-build writes it, under the workspace root.
    pub fn build_dir(self) -> PathBuf {
        paths::workspace_root().join("edge/build").join(self.feature())
    }
}

fn edge_worker(tools: &Tools, worker: EdgeWorker) -> Result<(), String> {
    let root = paths::workspace_root();
    let mut command = Command::new(&tools.worker_build);
    offline(&mut command)
        .current_dir(root.join("edge"))
        .env("WASM_BINDGEN_BIN", &tools.wasm_bindgen)
        .env("WASM_OPT_BIN", &tools.wasm_opt)
        .env("ESBUILD_BIN", &tools.esbuild)
        .args(["--profile", COMPACT_PROFILE, "--out-dir"])
        .arg(Path::new("build").join(worker.feature()))
        .arg(".")
        .args(["--features", worker.feature()]);
    cmd::run(&mut command)?;
    if std::env::var_os("PAYLATER_EDGE_NO_OPT").is_some() {
        return Ok(());
    }
    // Without `--debuginfo` (which worker-build would add): function names are not worth a
    // tenth of the upload, and the edge is built not to panic.
    let wasm = worker.build_dir().join("index_bg.wasm");
    cmd::run(
        offline(&mut Command::new(&tools.wasm_opt))
            .args(WASM_OPT_PASSES)
            .args(WASM_FEATURES)
            // wasm-bindgen's catch wrappers in worker's glue use exception handling.
            .arg("--enable-exception-handling")
            .arg(&wasm)
            .arg("-o")
            .arg(&wasm),
    )
}

/// Builds `target/debug/merchant-server` (examples/merchant-server), where
/// `paylater_harness::merchant_server` starts it from, and `target/debug/paylater-audit` (the
/// verifier the audit tests run), whatever `CARGO_TARGET_DIR` says.
pub fn native_binaries() -> Result<(), String> {
    let root = paths::workspace_root();
    let mut command = Command::new("cargo");
    offline(command.current_dir(&root))
        .env("CARGO_TARGET_DIR", root.join("target"))
        .args(["build", "-p", "paylater-merchant-server", "-p", "paylater-audit"]);
    cmd::run(&mut command)
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}
