//! The example merchant server (`examples/merchant-server`) on loopback, next to an edge and the
//! demo page. This builds nothing: xtask builds the binary first
//! (`cargo build -p paylater-merchant-server`, the dev profile), and this starts it.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::process::Server;
use crate::{HarnessError, http, paths, ports};

/// The demo's fixed port; `demo/index.html` names this server's URL by default.
pub const DEMO_PORT: u16 = 8790;

/// What only the merchant server answers on `GET /health`.
pub const HEALTH_BODY: &str = r#"{"merchant_server":true}"#;

/// The binary `cargo build -p paylater-merchant-server` makes.
pub fn binary() -> PathBuf {
    paths::workspace_root().join("target/debug/merchant-server")
}

/// Where it runs and whom it serves.
pub struct MerchantServerOptions {
    pub edge_url: String,
    /// A fixed port, or a free one.
    pub port: Option<u16>,
    /// The demo page's origin (`http://127.0.0.1:PORT`), the one origin whose browser calls it
    /// answers.
    pub allowed_origin: String,
    /// For its log.
    pub work_dir: PathBuf,
}

/// A running merchant server, stopped on drop.
pub struct MerchantServer {
    pub url: String,
    pub port: u16,
    server: Server,
}

impl MerchantServer {
    /// Starts the built binary with the demo merchant's defaults (its local test key and
    /// merchant id) and waits until `/health` gives the answer only it gives.
    pub fn start(options: MerchantServerOptions) -> Result<Self, HarnessError> {
        let binary = binary();
        if !binary.is_file() {
            return Err(HarnessError::Command {
                what: "merchant-server".into(),
                detail: format!(
                    "{} is missing: build it with `cargo build -p paylater-merchant-server`",
                    binary.display()
                ),
            });
        }
        std::fs::create_dir_all(&options.work_dir)?;
        let port = match options.port {
            Some(port) => port,
            None => ports::free_port()?,
        };
        let mut command = Command::new(&binary);
        command
            .current_dir(paths::workspace_root())
            .args(["--edge", &options.edge_url])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--allowed-origin", &options.allowed_origin])
            // The binary's defaults are the demo merchant's; nothing of the caller's shell may
            // change them.
            .env_remove("PAYLATER_SECRET_KEY")
            .env_remove("PAYLATER_MERCHANT_ID")
            .env("NO_PROXY", "127.0.0.1,localhost,::1");
        let mut server = Server::spawn(
            "merchant-server",
            command,
            &options.work_dir.join("merchant-server.log"),
        )?;
        let url = format!("http://127.0.0.1:{port}");
        let health = format!("{url}/health");
        server.wait_ready(Duration::from_secs(30), || {
            http::get(&health).is_ok_and(|r| r.status == 200 && r.body == HEALTH_BODY)
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
