//! The demo merchant page under `trunk serve`, proxying `/v1/` to an edge, its Place order
//! button posting to a merchant server.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::Server;
use crate::{HarnessError, http, paths, ports};

/// A marker only our demo page carries, so readiness is ours and not any server's on the port.
pub const DEMO_PAGE_MARKER: &str = "<meta name=\"paylater-demo\" content=\"nordic-outdoor\">";

/// The attribute of the page's `<body>` that tells `demo/demo.js` where the merchant server is
/// (`demo/index.html` names the demo's, on [`crate::merchant_server::DEMO_PORT`]).
pub const MERCHANT_SERVER_ATTRIBUTE: &str = "data-merchant-server";

/// `html` with the merchant server attribute's value set to `url`; the page must have exactly one.
pub fn with_merchant_server(html: &str, url: &str) -> Result<String, String> {
    let opening = format!("{MERCHANT_SERVER_ATTRIBUTE}=\"");
    let mut found = html.match_indices(&opening);
    let (Some((at, _)), None) = (found.next(), found.next()) else {
        return Err(format!(
            "the page must have exactly one {MERCHANT_SERVER_ATTRIBUTE}=\"…\""
        ));
    };
    let value_start = at + opening.len();
    let value_len = html[value_start..]
        .find('"')
        .ok_or_else(|| format!("{MERCHANT_SERVER_ATTRIBUTE} has no closing quote"))?;
    if !url
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'<' | b'>' | b'&' | b'\''))
    {
        return Err(format!("not a URL to put in the page: {url:?}"));
    }
    Ok(format!(
        "{}{url}{}",
        &html[..value_start],
        &html[value_start + value_len..]
    ))
}

/// A copy of `demo/` in `site` whose page names `merchant_server`, for runs whose merchant server
/// is not the demo's (tests, on free ports). Its files are copied once: a page served from the
/// copy does not follow edits of `demo/`.
fn copy_site(site: &Path, merchant_server: &str) -> Result<(), HarnessError> {
    let demo = paths::workspace_root().join("demo");
    std::fs::create_dir_all(site)?;
    for entry in std::fs::read_dir(&demo)? {
        let path = entry?.path();
        if !path.is_file() {
            continue;
        }
        let Some(name) = path.file_name() else { continue };
        if name == "index.html" {
            let html = with_merchant_server(&std::fs::read_to_string(&path)?, merchant_server).map_err(|detail| {
                HarnessError::Command {
                    what: "demo/index.html".into(),
                    detail,
                }
            })?;
            std::fs::write(site.join(name), html)?;
        } else {
            std::fs::copy(&path, site.join(name))?;
        }
    }
    Ok(())
}

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
fn trunk_config(edge_url: &str, port: u16, work_dir: &Path, site: &Path, rebuild: Rebuild) -> String {
    let root = paths::workspace_root();
    let quoted = |p: &Path| format!("{:?}", p.display().to_string());
    let mut config = format!(
        "[build]\ntarget = {index}\ndist = {dist}\noffline = true\nfilehash = false\n\n\
         [serve]\naddresses = [\"127.0.0.1\"]\nport = {port}\nno_autoreload = {no_reload}\n\n\
         [[proxy]]\nbackend = \"{edge_url}/v1/\"\n\n",
        index = quoted(&site.join("index.html")),
        dist = quoted(&work_dir.join("dist")),
        no_reload = rebuild == Rebuild::Never,
    );
    match rebuild {
        Rebuild::Never => config.push_str(&format!("[watch]\nwatch = [{}]\n", quoted(site))),
        Rebuild::OnChange => {
            let watched: Vec<String> = [
                "demo",
                "widget/src",
                "widget/loader",
                "widget/style",
                "widget-outbox/src",
                "shared/src",
            ]
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
    /// Serves the demo on `port` (or a free one), proxying `/v1/` to `edge_url`. With
    /// `merchant_server`, the page's Place order posts there instead of to the demo's own
    /// (`demo/index.html` as is); that needs `Rebuild::Never`, since it serves a copy of the page.
    pub fn start(
        edge_url: &str,
        port: Option<u16>,
        work_dir: PathBuf,
        rebuild: Rebuild,
        merchant_server: Option<&str>,
    ) -> Result<Self, HarnessError> {
        std::fs::create_dir_all(&work_dir)?;
        let port = match port {
            Some(port) => port,
            None => ports::free_port()?,
        };
        let site = match merchant_server {
            None => paths::workspace_root().join("demo"),
            Some(_) if rebuild == Rebuild::OnChange => {
                return Err(HarnessError::Command {
                    what: "trunk serve".into(),
                    detail: "another merchant server than the demo's needs Rebuild::Never (the page is a copy)".into(),
                });
            }
            Some(url) => {
                let site = work_dir.join("site");
                copy_site(&site, url)?;
                site
            }
        };
        let config = work_dir.join("Trunk.toml");
        std::fs::write(&config, trunk_config(edge_url, port, &work_dir, &site, rebuild))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merchant_server::DEMO_PORT;

    #[test]
    fn the_demo_page_names_the_demos_merchant_server() {
        let html = std::fs::read_to_string(paths::workspace_root().join("demo/index.html")).unwrap();
        let attribute = format!("{MERCHANT_SERVER_ATTRIBUTE}=\"http://127.0.0.1:{DEMO_PORT}\"");
        assert_eq!(
            html.matches(&attribute).count(),
            1,
            "demo/index.html must carry {attribute}"
        );
        let moved = with_merchant_server(&html, "http://127.0.0.1:41234").unwrap();
        assert!(moved.contains("data-merchant-server=\"http://127.0.0.1:41234\""));
        assert_eq!(
            moved.replace("http://127.0.0.1:41234", &format!("http://127.0.0.1:{DEMO_PORT}")),
            html
        );
    }

    #[test]
    fn with_merchant_server_replaces_exactly_one_value() {
        let page = "<body class=\"x\" data-merchant-server=\"http://a\">";
        assert_eq!(
            with_merchant_server(page, "http://127.0.0.1:9").unwrap(),
            "<body class=\"x\" data-merchant-server=\"http://127.0.0.1:9\">"
        );
        assert!(with_merchant_server("<body>", "http://b").is_err());
        assert!(with_merchant_server(&format!("{page}{page}"), "http://b").is_err());
        assert!(with_merchant_server(page, "http://b\" onload=\"x").is_err());
    }
}
