//! Integration tests only: see `tests/` (Rust, against `wrangler dev`) and `e2e/` (Playwright
//! in Chromium, against the edge and the demo page). The harness they use is `paylater-harness`.
