//! `cargo xtask demo`: the edge on 127.0.0.1:8787 and the demo merchant page on 127.0.0.1:8080,
//! until Ctrl-C, which stops both (by their own process groups).

use std::time::Duration;

use paylater_harness::demo::{DemoPage, Rebuild};
use paylater_harness::edge::{Edge, EdgeOptions};
use paylater_harness::paths;

use crate::{build, interrupt, tools};

pub fn run() -> Result<(), String> {
    // `PAYLATER_DEMO_PREBUILT=1`: serve what `cargo xtask build` made, rebuilding nothing.
    let prebuilt = std::env::var_os("PAYLATER_DEMO_PREBUILT").is_some();
    let tools = tools::bootstrap()?;
    // The widget is built by trunk's pre_build hook (`cargo xtask build-widget`) before the page
    // is served, and again on every change; building it here too would only repeat that.
    if !prebuilt {
        build::edge(&tools)?;
    }
    let work_dir = paths::workspace_root().join("target/demo");
    let mut edge = Edge::start(EdgeOptions {
        port: Some(8787),
        work_dir: work_dir.join("edge"),
        vars: Vec::new(),
    })
    .map_err(|e| e.to_string())?;
    let mut page = DemoPage::start(
        &edge.url,
        Some(8080),
        work_dir.join("page"),
        if prebuilt { Rebuild::Never } else { Rebuild::OnChange },
    )
    .map_err(|e| e.to_string())?;
    println!("\nPaylater demo is running:");
    println!("  demo merchant page  {}/", page.url);
    println!("  edge API            {}/health  ({}/v1/widget.js)", edge.url, edge.url);
    println!("  logs                {}", work_dir.display());
    println!("Press Ctrl-C to stop both.");
    while !interrupt::interrupted() {
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("\nstopping…");
    page.stop();
    edge.stop();
    println!("stopped.");
    Ok(())
}
