//! The harness that runs Paylater's real parts on loopback: `wrangler dev` (workerd with local
//! KV), `trunk serve` (the demo merchant page) and the example merchant server. Tests,
//! benchmarks and `cargo xtask demo` all start servers through it, so every one of them is
//! started, known ready and stopped the same way.
//!
//! # Layout
//! - [`paths`]: where the workspace, the pinned tools and Node live.
//! - [`process`]: a child in its own process group, stopped by its own PID on drop.
//! - [`ports`]: free loopback ports.
//! - [`edge`]: a seeded `wrangler dev` on free ports.
//! - [`demo`]: `trunk serve` of the demo page, proxying `/v1/` to an edge.
//! - [`merchant_server`]: the example merchant server (`examples/merchant-server`), built by xtask.
//! - [`http`]: a small blocking HTTP client for loopback calls.
//! - [`sink`]: a local OTLP/HTTP log receiver that can fail or refuse on demand.
//! - [`admin`]: operator commands (dead-letter replay).
//! - [`letters`]: dead letters sealed and opened as the local edge does.

pub mod admin;
pub mod demo;
pub mod edge;
pub mod http;
pub mod letters;
pub mod merchant_server;
pub mod paths;
pub mod ports;
pub mod process;
pub mod sink;

use thiserror::Error;

/// Why a server could not be started.
#[derive(Debug, Error)]
pub enum HarnessError {
    #[error("could not start {what}: {source}")]
    Spawn { what: String, source: std::io::Error },
    #[error("{what} exited before it was ready ({status}); its log: {log}")]
    ExitedEarly { what: String, status: String, log: String },
    #[error("{what} was not ready within {seconds} s; its log: {log}")]
    NotReady { what: String, seconds: u64, log: String },
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
