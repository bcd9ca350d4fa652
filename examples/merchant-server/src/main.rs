//! An example merchant server for Paylater (docs/merchant-server.md, "The example server"): it
//! takes the approval token the shop page got from the widget, verifies it with the edge's
//! published keys, creates the order with the merchant's secret key, and serves a plain orders
//! page with capture, refund and void buttons and the day's reconciliation.
//!
//! # Layout
//! - [`config`]: flags and environment.
//! - [`routes`]: what each path does; CORS for the shop page, same-origin forms for the buttons.
//! - [`verify`]: the approval token, checked with `jsonwebtoken` and the cached JWKS.
//! - [`edge_client`]: the edge's merchant server API with the secret key.
//! - [`input`]: request bodies, forms and order ids.
//! - [`store`]: the orders made here, in memory.
//! - [`page`]: the orders page's HTML, a pure function.
//! - [`error`]: statuses and JSON error bodies.
//!
//! This file only wires them to `tiny_http`.

mod config;
mod edge_client;
mod error;
mod input;
mod page;
mod routes;
mod store;
mod verify;

use std::io::{Read, Write};
use std::process::ExitCode;
use std::sync::Arc;

use config::{Config, ConfigError};
use routes::{App, Incoming, Reply};

/// Requests handled at once: a page load waits on the edge, and a click should not wait for it.
const WORKERS: usize = 4;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_args(&args, |name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(ConfigError::Help) => {
            println!("{}", config::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("merchant-server: {error}");
            return ExitCode::from(2);
        }
    };
    let server = match tiny_http::Server::http(config.listen) {
        Ok(server) => Arc::new(server),
        Err(error) => {
            eprintln!("merchant-server: cannot listen on {}: {error}", config.listen);
            return ExitCode::FAILURE;
        }
    };
    let Some(address) = server.server_addr().to_ip() else {
        eprintln!("merchant-server: not listening on an IP address");
        return ExitCode::FAILURE;
    };
    eprintln!(
        "merchant-server: edge {}, merchant {}, {} mode, shop page origin {}",
        config.edge_url,
        config.merchant_id,
        if config.livemode { "live" } else { "test" },
        config.allowed_origin
    );
    // The one line that says this server is up, and where (port 0 picks a free port).
    println!("merchant-server listening on http://{address}");
    let _ = std::io::stdout().flush();
    let app = Arc::new(App::new(config));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (server, app) = (Arc::clone(&server), Arc::clone(&app));
            std::thread::spawn(move || serve(&server, &app))
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    ExitCode::SUCCESS
}

fn serve(server: &tiny_http::Server, app: &App) {
    for mut request in server.incoming_requests() {
        let incoming = read_request(&mut request);
        let reply = app.handle(&incoming);
        eprintln!("{} {} -> {}", incoming.method, incoming.path, reply.status);
        // A client that hung up is no concern of the next request.
        let _ = request.respond(response(reply));
    }
}

fn read_request(request: &mut tiny_http::Request) -> Incoming {
    let header = |name: &'static str| {
        request
            .headers()
            .iter()
            .find(|h| h.field.equiv(name))
            .map(|h| h.value.as_str().to_owned())
    };
    let (origin, host, content_type) = (header("Origin"), header("Host"), header("Content-Type"));
    let method = request.method().as_str().to_owned();
    let path = request.url().split('?').next().unwrap_or_default().to_owned();
    let mut body = Vec::new();
    let limit = input::MAX_BODY_BYTES as u64 + 1;
    let read = request.as_reader().take(limit).read_to_end(&mut body);
    let body = (read.is_ok() && body.len() <= input::MAX_BODY_BYTES).then_some(body);
    Incoming {
        method,
        path,
        origin,
        host,
        content_type,
        body,
    }
}

fn response(reply: Reply) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    for (name, value) in reply.headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(header);
        }
    }
    response
}
