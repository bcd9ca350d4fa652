//! `cargo xtask demo`: the edge on 127.0.0.1:8787, the demo merchant page on 127.0.0.1:8080 and
//! the example merchant server on 127.0.0.1:8790 (where the page's Place order posts), until
//! Ctrl-C, which stops all three (by their own process groups).

use std::time::Duration;

use paylater_harness::demo::{DemoPage, Rebuild};
use paylater_harness::edge::{Edge, EdgeOptions};
use paylater_harness::merchant_server::{self, MerchantServer, MerchantServerOptions};
use paylater_harness::paths;

use crate::{build, interrupt, tools};

/// The demo page's fixed port; the merchant server answers browser calls from its origin only.
const PAGE_PORT: u16 = 8080;

pub fn run() -> Result<(), String> {
    // `PAYLATER_DEMO_PREBUILT=1`: serve what `cargo xtask build` made, rebuilding nothing (the
    // merchant server is built only if it was never built).
    let prebuilt = std::env::var_os("PAYLATER_DEMO_PREBUILT").is_some();
    let tools = tools::bootstrap()?;
    // The widget is built by trunk's pre_build hook (`cargo xtask build-widget`) before the page
    // is served, and again on every change; building it here too would only repeat that.
    if !prebuilt {
        build::edge(&tools)?;
    }
    if !prebuilt || !merchant_server::binary().is_file() {
        build::native_binaries()?;
    }
    let work_dir = paths::workspace_root().join("target/demo");
    let mut edge = Edge::start(EdgeOptions {
        config_changes: Vec::new(),
        port: Some(8787),
        work_dir: work_dir.join("edge"),
        // A digest a minute, so `paylater-audit verify` has something to check within minutes
        // (`wrangler dev` runs the cron when asked: `GET /__scheduled`, docs/audit.md).
        vars: vec![("DIGEST_PERIOD_SECONDS".into(), "60".into())],
    })
    .map_err(|e| e.to_string())?;
    // A week of traffic for the dashboard, replayed while the rest starts.
    let seeding = {
        let (url, state, work) = (edge.url.clone(), edge.state_dir.clone(), work_dir.join("edge"));
        std::thread::spawn(move || crate::demo_traffic::seed(&url, &state, &work))
    };
    let mut shop_server = MerchantServer::start(MerchantServerOptions {
        edge_url: edge.url.clone(),
        port: Some(merchant_server::DEMO_PORT),
        allowed_origin: format!("http://127.0.0.1:{PAGE_PORT}"),
        work_dir: work_dir.join("merchant-server"),
    })
    .map_err(|e| e.to_string())?;
    // demo/index.html names the merchant server on DEMO_PORT itself: the page is served as is.
    let mut page = DemoPage::start(
        &edge.url,
        Some(PAGE_PORT),
        work_dir.join("page"),
        if prebuilt { Rebuild::Never } else { Rebuild::OnChange },
        None,
    )
    .map_err(|e| e.to_string())?;
    println!("\nPaylater demo is running:");
    println!("  demo merchant page  {}/", page.url);
    println!(
        "  merchant server     {}/  (orders: capture, refund, void; reconciliation)",
        shop_server.url
    );
    println!("  edge API            {}/health  ({}/v1/widget.js)", edge.url, edge.url);
    println!(
        "  merchant dashboard  {}/dashboard  (sign in with {})",
        edge.url,
        crate::demo_traffic::REPLAY_KEY
    );
    match seeding.join() {
        Ok(Ok(seeded)) => println!(
            "  seeded              {} to {}: {} sessions, {} decisions, {} orders (counted within a minute)",
            seeded.from, seeded.to, seeded.sessions, seeded.decisions, seeded.orders
        ),
        Ok(Err(error)) => println!("  seeding the demo week failed: {error}"),
        Err(_) => println!("  seeding the demo week failed"),
    }
    println!("  logs                {}", work_dir.display());
    println!("Press Ctrl-C to stop all three.");
    while !interrupt::interrupted() {
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("\nstopping…");
    page.stop();
    shop_server.stop();
    edge.stop();
    println!("stopped.");
    Ok(())
}
