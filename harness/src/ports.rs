//! Free loopback ports.

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::Mutex;

/// Ports this process handed out already: tests start servers in parallel, and the OS may hand
/// a just-closed port out again, so two of our servers would be given the same one.
static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A port the OS just handed out on 127.0.0.1, never one this process handed out before. The
/// listener is closed before the server binds it: another process may still take it first,
/// which the server's start notices (the edge then tries another port).
pub fn free_port() -> std::io::Result<u16> {
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let handed_out = handed_out.get_or_insert_with(HashSet::new);
    // Keep the listeners open while asking, so the OS gives a different port each time.
    let mut held = Vec::new();
    loop {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        if handed_out.insert(port) {
            return Ok(port);
        }
        held.push(listener);
        if held.len() > 64 {
            return Err(std::io::Error::other("no loopback port this process has not used"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_is_handed_out_once() {
        let ports: Vec<u16> = (0..50).map(|_| free_port().unwrap()).collect();
        let distinct: HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len());
    }
}
