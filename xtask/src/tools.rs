//! The pinned toolchain, installed from the four registries this project may use (crates.io,
//! npm, Debian, PyPI) and nothing else. Every step checks first and installs only what is
//! missing or at the wrong version, so a second run installs nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use paylater_harness::paths;

use crate::cmd;

/// trunk 0.22 needs rustc ≥ 1.96.1; this is the newest that builds on the pinned 1.95.
pub const TRUNK_VERSION: &str = "0.21.14";

/// Debian packages and a binary each provides, to tell whether it is installed. Firefox ESR and
/// WebKitGTK (its WebDriver and MiniBrowser, under Xvfb) are the end-to-end specs' other engines.
const DEBIAN_PACKAGES: [(&str, &str); 7] = [
    ("chromium", "/usr/bin/chromium"),
    ("chromium-driver", "/usr/bin/chromedriver"),
    ("firefox-esr", "/usr/bin/firefox-esr"),
    ("webkit2gtk-driver", "/usr/bin/WebKitWebDriver"),
    ("xvfb", "/usr/bin/Xvfb"),
    ("brotli", "/usr/bin/brotli"),
    ("wrk", "/usr/bin/wrk"),
];

/// Where each tool is, once installed.
pub struct Tools {
    pub wasm_bindgen: PathBuf,
    pub worker_build: PathBuf,
    pub wasm_opt: PathBuf,
    pub esbuild: PathBuf,
}

/// Installs whatever is missing and returns the tools' paths.
pub fn bootstrap() -> Result<Tools, String> {
    let root = paths::workspace_root();
    ensure_wasm_target()?;
    ensure_debian_packages()?;
    ensure_node_modules(&root)?;
    ensure_python_venv(&root)?;
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).map_err(|e| format!("reading Cargo.lock: {e}"))?;
    // Both must equal what the workspace links against, or trunk, worker-build and the test
    // runner refuse (and would try to download a match).
    let bindgen_version = locked_version(&lock, "wasm-bindgen")?;
    let worker_version = locked_version(&lock, "worker")?;
    // wasm-bindgen-cli's own lockfile pins a crate the registry lacks: it installs unlocked.
    install_cargo_tools(&[
        CargoTool {
            package: "wasm-bindgen-cli",
            version: &bindgen_version,
            binary: "wasm-bindgen",
            locked: false,
        },
        CargoTool {
            package: "worker-build",
            version: &worker_version,
            binary: "worker-build",
            locked: true,
        },
        CargoTool {
            package: "trunk",
            version: TRUNK_VERSION,
            binary: "trunk",
            locked: true,
        },
    ])?;
    cmd::run(Command::new("cargo").current_dir(&root).args(["fetch", "--locked"]))?;
    Ok(Tools {
        wasm_bindgen: paths::tool("wasm-bindgen"),
        worker_build: paths::tool("worker-build"),
        wasm_opt: paths::node_bin("wasm-opt"),
        esbuild: root.join("node_modules/@esbuild/linux-x64/bin/esbuild"),
    })
}

/// The version of `name` in Cargo.lock (the first entry, as workspaces lock one version of these).
pub fn locked_version(lock: &str, name: &str) -> Result<String, String> {
    let needle = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == needle
            && let Some(version) = lines.next().and_then(|l| l.trim().strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_owned());
        }
    }
    Err(format!("{name} is not in Cargo.lock"))
}

/// rustup installs a toolchain file's targets only when it installs the toolchain itself; an
/// already-present 1.95.0 without wasm32 needs the target added.
pub fn ensure_wasm_target() -> Result<(), String> {
    let root = paths::workspace_root();
    let installed = cmd::output(
        Command::new("rustup")
            .current_dir(&root)
            .args(["target", "list", "--installed"]),
    )
    .unwrap_or_default();
    if installed.lines().any(|t| t.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    cmd::run(
        Command::new("rustup")
            .current_dir(&root)
            .args(["target", "add", "wasm32-unknown-unknown"]),
    )
}

fn ensure_debian_packages() -> Result<(), String> {
    let missing: Vec<&str> = DEBIAN_PACKAGES
        .iter()
        .filter(|(_, bin)| !Path::new(bin).exists())
        .map(|(pkg, _)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("installing Debian packages: {}", missing.join(" "));
    cmd::run(
        Command::new("apt-get")
            .args(["update", "-qq"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    let install = || {
        cmd::run(
            Command::new("apt-get")
                .args(["install", "-y", "-qq", "--no-install-recommends"])
                .args(&missing)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    };
    // The image cleans its apt cache between dpkg passes; a second run picks up what the first
    // could not read.
    install().or_else(|_| install())
}

/// A cheap fingerprint of package-lock.json (FNV-1a), to notice when node_modules is stale.
fn fingerprint(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

fn ensure_node_modules(root: &Path) -> Result<(), String> {
    let lock = std::fs::read(root.join("package-lock.json")).map_err(|e| format!("reading package-lock.json: {e}"))?;
    let stamp_path = root.join("node_modules/.paylater-lock-fingerprint");
    let wanted = fingerprint(&lock);
    if std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == wanted) {
        return Ok(());
    }
    // Not `npm ci`: the registry reachable here lacks workerd's macOS/Windows builds, so the lock
    // cannot list them and `npm ci` calls it out of sync. `npm install` installs exactly what the
    // lock pins for this platform and leaves the lock as it is.
    cmd::run(
        Command::new("npm")
            .current_dir(root)
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"]),
    )?;
    std::fs::write(&stamp_path, wanted).map_err(|e| format!("writing {}: {e}", stamp_path.display()))
}

/// The Python tools tests use as independent checkers (OpenTelemetry's protobuf definitions,
/// an OpenAPI validator), pinned in `tests/python/requirements.txt`, in a venv in the tools dir.
fn ensure_python_venv(root: &Path) -> Result<(), String> {
    let requirements = root.join("tests/python/requirements.txt");
    let wanted = fingerprint(&std::fs::read(&requirements).map_err(|e| format!("reading requirements: {e}"))?);
    let venv = paths::python_venv();
    let stamp_path = venv.join(".paylater-requirements-fingerprint");
    if std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == wanted) {
        return Ok(());
    }
    let create = |venv: &Path| cmd::run(Command::new("python3").args(["-m", "venv", "--clear"]).arg(venv));
    if create(&venv).is_err() {
        // Debian's python3 lacks the venv module until python3-venv is installed.
        cmd::run(Command::new("apt-get").args(["install", "-y", "python3-venv"]))?;
        create(&venv)?;
    }
    cmd::run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements),
    )?;
    std::fs::write(&stamp_path, wanted).map_err(|e| format!("writing {}: {e}", stamp_path.display()))
}

/// A tool installed from crates.io with `cargo install`.
struct CargoTool<'a> {
    package: &'a str,
    version: &'a str,
    binary: &'a str,
    locked: bool,
}

impl CargoTool<'_> {
    fn is_installed(&self) -> bool {
        let installed = cmd::output(Command::new(paths::tool(self.binary)).arg("--version")).unwrap_or_default();
        installed.split_whitespace().any(|word| word == self.version)
    }
}

/// The tools run for seconds per build, and their cold compile is the longest step of a fresh
/// machine's first run: build them at opt-level 1 without LTO or debug info, which compiles in
/// far less time and runs fast enough for a build step.
const QUICK_RELEASE_PROFILE: [(&str, &str); 4] = [
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1"),
    ("CARGO_PROFILE_RELEASE_LTO", "false"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16"),
    ("CARGO_PROFILE_RELEASE_DEBUG", "false"),
];

/// Installs the missing tools side by side: each build spends long stretches in single-threaded
/// crates (lightningcss in trunk), so on two cores running them together finishes sooner than
/// one after another. Each gets its own target dir (no lock contention) and log file.
fn install_cargo_tools(tools: &[CargoTool<'_>]) -> Result<(), String> {
    let missing: Vec<&CargoTool<'_>> = tools.iter().filter(|t| !t.is_installed()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let root = paths::tools_dir();
    let logs = root.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("creating {}: {e}", logs.display()))?;
    let mut children = Vec::new();
    for tool in &missing {
        eprintln!(
            "installing {} {} from crates.io (a few minutes; log in {})",
            tool.package,
            tool.version,
            logs.display()
        );
        let log_path = logs.join(format!("{}-{}.log", tool.package, tool.version));
        let log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let mut install = Command::new("cargo");
        install
            .current_dir(paths::workspace_root())
            .args(["install", tool.package, "--version", tool.version, "--root"])
            .arg(&root)
            .env("CARGO_TARGET_DIR", root.join("target").join(tool.package))
            .envs(QUICK_RELEASE_PROFILE)
            .stdout(log)
            .stderr(err);
        if tool.locked {
            install.arg("--locked");
        }
        let child = install
            .spawn()
            .map_err(|e| format!("cargo install {}: {e}", tool.package))?;
        children.push((tool, child, log_path));
    }
    let mut failures = Vec::new();
    for (tool, mut child, log_path) in children {
        let ok = child.wait().is_ok_and(|status| status.success());
        if !ok {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            eprintln!(
                "--- {} install log (tail)\n{}",
                tool.package,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
            failures.push(tool.package);
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("cargo install failed: {}", failures.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions_from_a_lockfile() {
        let lock = "[[package]]\nname = \"worker\"\nversion = \"0.8.7\"\n\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n";
        assert_eq!(locked_version(lock, "worker"), Ok("0.8.7".into()));
        assert_eq!(locked_version(lock, "wasm-bindgen"), Ok("0.2.130".into()));
        assert!(locked_version(lock, "trunk").is_err());
    }

    #[test]
    fn fingerprint_changes_with_content() {
        assert_eq!(fingerprint(b""), "cbf29ce484222325");
        assert_ne!(fingerprint(b"a"), fingerprint(b"b"));
    }
}
