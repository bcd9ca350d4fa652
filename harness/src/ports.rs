//! Free loopback ports.

use std::net::TcpListener;

/// A port the OS just handed out on 127.0.0.1. The listener is closed before the server binds
/// it; the small race is acceptable in tests, and readiness checks catch a lost race.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
