//! The demo merchant page under `trunk serve`, proxying `/v1/` to an edge.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::Server;
use crate::{HarnessError, http, paths, ports};

/// A marker only our demo page carries, so readiness is ours and not any server's on the port.
pub const DEMO_PAGE_MARKER: &str = "<meta name=\"paylater-demo\" content=\"nordic-outdoor\">";

/// A running `trunk serve`, stopped on drop.
pub struct DemoPage {
    pub url: String,
    pub port: u16,
    server: Server,
}

/// Whether trunk should also rebuild the widget when its sources change (the demo's dev loop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebuild {
    /// Serve what `cargo xtask build` made; tests use this.
    Never,
    /// Watch widget sources and run `cargo xtask build-widget` before each trunk build.
    OnChange,
}

/// A Trunk.toml for one run: absolute paths, this run's ports and edge. (Trunk adds a CLI
/// `--proxy-backend` to the config's proxies instead of replacing them, so the proxy must be
/// written here.)
fn trunk_config(edge_url: &str, port: u16, work_dir: &Path, rebuild: Rebuild) -> String {
    let root = paths::workspace_root();
    let quoted = |p: &Path| format!("{:?}", p.display().to_string());
    let mut config = format!(
        "[build]\ntarget = {index}\ndist = {dist}\noffline = true\nfilehash = false\n\n\
         [serve]\naddresses = [\"127.0.0.1\"]\nport = {port}\nno_autoreload = {no_reload}\n\n\
         [[proxy]]\nbackend = \"{edge_url}/v1/\"\n\n",
        index = quoted(&root.join("demo/index.html")),
        dist = quoted(&work_dir.join("dist")),
        no_reload = rebuild == Rebuild::Never,
    );
    match rebuild {
        Rebuild::Never => config.push_str(&format!("[watch]\nwatch = [{}]\n", quoted(&root.join("demo")))),
        Rebuild::OnChange => {
            let watched: Vec<String> = ["demo", "widget/src", "widget/loader", "widget/style", "shared/src"]
                .iter()
                .map(|p| quoted(&root.join(p)))
                .collect();
            config.push_str(&format!(
                "[watch]\nwatch = [{}]\n\n[[hooks]]\nstage = \"pre_build\"\ncommand = \"cargo\"\ncommand_arguments = [\"xtask\", \"build-widget\"]\n",
                watched.join(", ")
            ));
        }
    }
    config
}

impl DemoPage {
    /// Serves the demo on `port` (or a free one), proxying `/v1/` to `edge_url`.
    pub fn start(edge_url: &str, port: Option<u16>, work_dir: PathBuf, rebuild: Rebuild) -> Result<Self, HarnessError> {
        std::fs::create_dir_all(&work_dir)?;
        let port = match port {
            Some(port) => port,
            None => ports::free_port()?,
        };
        let config = work_dir.join("Trunk.toml");
        std::fs::write(&config, trunk_config(edge_url, port, &work_dir, rebuild))?;
        let mut command = Command::new(paths::tool("trunk"));
        paths::offline(&mut command)
            .current_dir(paths::workspace_root())
            .env("TRUNK_SKIP_VERSION_CHECK", "true")
            .arg("--config")
            .arg(&config)
            .arg("serve");
        let mut server = Server::spawn("trunk serve", command, &work_dir.join("trunk.log"))?;
        let url = format!("http://127.0.0.1:{port}");
        let page = format!("{url}/");
        server.wait_ready(Duration::from_secs(180), || {
            http::get(&page).is_ok_and(|r| r.status == 200 && r.body.contains(DEMO_PAGE_MARKER))
        })?;
        Ok(Self { url, port, server })
    }

    pub fn log_text(&self) -> String {
        self.server.log_text()
    }

    pub fn stop(&mut self) -> bool {
        self.server.stop()
    }
}
