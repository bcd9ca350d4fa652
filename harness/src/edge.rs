//! A real edge: `wrangler dev --local` (workerd) on free loopback ports, with its own state
//! directory and the demo merchant seeded into local KV.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::Server;
use crate::{HarnessError, http, paths, ports};

/// Where state, logs and the port live for one edge.
pub struct EdgeOptions {
    pub port: Option<u16>,
    /// A directory for `.wrangler` state and the log; a fresh one per test.
    pub work_dir: PathBuf,
    /// Vars set in both Workers' configs (over the configured values).
    pub vars: Vec<(String, String)>,
    /// Text changes (`from`, `to`) made in every config that has `from` (each must be in at
    /// least one), e.g. the back office's consumer's retries.
    pub config_changes: Vec<(String, String)>,
}

/// The workspace's two wrangler configs (shop first: `wrangler dev` serves the first), as this
/// edge runs them.
pub const CONFIGS: [&str; 2] = ["wrangler.toml", "wrangler.office.toml"];

/// Writes both configs under `work_dir/config/` with their paths made absolute, `vars` set in
/// each and `config_changes` made where they apply, and `.dev.vars` beside them (wrangler reads secrets there):
/// `wrangler dev --var` would reach the first Worker only.
fn write_configs(options: &EdgeOptions) -> Result<[PathBuf; 2], HarnessError> {
    let root = paths::workspace_root();
    let dir = options.work_dir.join("config");
    std::fs::create_dir_all(&dir)?;
    // Vars go into the copied `.dev.vars` too: there they also replace a secret of that name.
    let dev_vars = std::fs::read_to_string(root.join(".dev.vars"))?;
    let dev_vars = dev_vars_for_run(&dev_vars, &options.vars).map_err(|detail| HarnessError::Command {
        what: "writing .dev.vars".into(),
        detail,
    })?;
    std::fs::write(dir.join(".dev.vars"), dev_vars)?;
    let mut written = Vec::new();
    let mut applied = vec![false; options.config_changes.len()];
    for name in CONFIGS {
        let text = std::fs::read_to_string(root.join(name))?;
        let changes: Vec<(String, String)> = options
            .config_changes
            .iter()
            .enumerate()
            .filter(|(_, (from, _))| text.contains(from.as_str()))
            .map(|(index, change)| {
                applied[index] = true;
                change.clone()
            })
            .collect();
        let text = config_for_run(&text, &root, &options.vars, &changes).map_err(|detail| HarnessError::Command {
            what: format!("writing {name}"),
            detail,
        })?;
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        written.push(path);
    }
    if let Some(index) = applied.iter().position(|done| !done) {
        return Err(HarnessError::Command {
            what: "writing the wrangler configs".into(),
            detail: format!("no config has {:?}", options.config_changes[index].0),
        });
    }
    Ok([written[0].clone(), written[1].clone()])
}

/// `.dev.vars` for a run: its lines for `vars`' names replaced by theirs.
pub fn dev_vars_for_run(text: &str, vars: &[(String, String)]) -> Result<String, String> {
    let mut lines: Vec<String> = text
        .lines()
        .filter(|line| !vars.iter().any(|(name, _)| line.starts_with(&format!("{name}="))))
        .map(str::to_owned)
        .collect();
    for (name, value) in vars {
        lines.push(format!("{name}={}", literal(value)?));
    }
    Ok(lines.join("\n") + "\n")
}

/// `'value'`: a literal string in TOML and in dotenv alike (nothing is unescaped inside), so a
/// value with a quote or a line break in it is refused rather than read as something else.
fn literal(value: &str) -> Result<String, String> {
    if value.contains(['\'', '\n', '\r']) {
        return Err(format!("a var value cannot hold a quote or a line break: {value:?}"));
    }
    Ok(format!("'{value}'"))
}

/// One config's text for a run: relative paths made absolute from `root`, `vars` replacing
/// the `[vars]` table's lines of those names (or added to it), then `changes`.
pub fn config_for_run(
    text: &str,
    root: &Path,
    vars: &[(String, String)],
    changes: &[(String, String)],
) -> Result<String, String> {
    let absolute = |line: &str| -> Option<String> {
        // (`watch_dir` stays relative: the harness runs prebuilt Workers, wrangler builds nothing.)
        for key in ["main", "directory", "migrations_dir", "cwd"] {
            let prefix = format!("{key} = \"");
            if let Some(rest) = line.strip_prefix(&prefix) {
                let relative = rest.strip_suffix('"')?;
                return Some(format!("{key} = {:?}", root.join(relative).display().to_string()));
            }
        }
        None
    };
    let mut lines = Vec::new();
    let mut in_vars = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_vars = line == "[vars]";
            lines.push(line.to_owned());
            if in_vars {
                for (name, value) in vars {
                    lines.push(format!("{name} = {}", literal(value)?));
                }
            }
            continue;
        }
        let overridden = in_vars && vars.iter().any(|(name, _)| line.starts_with(&format!("{name} = ")));
        if overridden {
            continue;
        }
        lines.push(absolute(line).unwrap_or_else(|| line.to_owned()));
    }
    if !vars.is_empty() && !text.lines().any(|l| l == "[vars]") {
        lines.push("[vars]".to_owned());
        for (name, value) in vars {
            lines.push(format!("{name} = {}", literal(value)?));
        }
    }
    let mut text = lines.join("\n") + "\n";
    for (from, to) in changes {
        if !text.contains(from.as_str()) {
            return Err(format!("the config has no {from:?}"));
        }
        text = text.replace(from.as_str(), to);
    }
    Ok(text)
}

/// The baseline workers of `cargo xtask bench`, run on the same runtime as the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaselineWorker {
    /// `bench/noop/`: answers without reading, checking or storing anything.
    Noop,
    /// `bench/floor/`: only the steps the events route cannot skip (one Durable Object call that
    /// looks ids up, stores them and sends them to a queue), in plain JS.
    Floor,
}

impl BaselineWorker {
    fn config(self) -> &'static str {
        match self {
            Self::Noop => "bench/noop/wrangler.toml",
            Self::Floor => "bench/floor/wrangler.toml",
        }
    }

    /// What only this worker answers on `/health`.
    fn ready_body(self) -> &'static str {
        match self {
            Self::Noop => r#"{"noop":true}"#,
            Self::Floor => r#"{"floor":true}"#,
        }
    }
}

/// A running edge, stopped on drop.
pub struct Edge {
    pub url: String,
    pub port: u16,
    /// wrangler's `--persist-to` directory (local KV, R2, Durable Objects, queues).
    pub state_dir: PathBuf,
    server: Server,
}

fn wrangler(work_dir: &Path) -> Command {
    let mut command = Command::new(paths::node_bin("wrangler"));
    paths::offline(&mut command)
        .current_dir(paths::workspace_root())
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        // Wrangler's own log files go with the test's state, not into the user's home; and none
        // at all: it would append every console line of the worker to a file a second time
        // (a mkdir and an open per line), which the server log already holds.
        .env("WRANGLER_LOG_PATH", work_dir.join("wrangler-logs"))
        .env("WRANGLER_WRITE_LOGS", "false")
        // The edge was built before any server starts (xtask); don't rebuild per instance.
        .env("PAYLATER_EDGE_PREBUILT", "1");
    command
}

/// D1 and R2 are the back office's bindings: wrangler's local commands on them read its config.
const OFFICE_CONFIG: [&str; 2] = ["--config", "wrangler.office.toml"];

/// A wrangler command's failure, with what it printed.
fn checked(output: &std::process::Output, what: &str) -> Result<(), HarnessError> {
    if output.status.success() {
        return Ok(());
    }
    Err(HarnessError::Command {
        what: what.into(),
        detail: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    })
}

/// Seeds every merchant file of `seed/merchants/` into local KV under `state`.
pub fn seed_merchants(state: &Path, work_dir: &Path) -> Result<(), HarnessError> {
    let seed_dir = paths::workspace_root().join("seed/merchants");
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(&seed_dir)? {
        let path = entry?.path();
        let Some(key) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
            continue;
        };
        let value = std::fs::read_to_string(&path)?;
        entries.push(serde_json::json!({ "key": format!("merchant:{key}"), "value": value }));
    }
    let bulk = work_dir.join("merchants-bulk.json");
    std::fs::write(&bulk, serde_json::Value::Array(entries).to_string())?;
    let output = wrangler(work_dir)
        .args(["kv", "bulk", "put", "--binding", "MERCHANTS", "--local", "--persist-to"])
        .arg(state)
        .arg(&bulk)
        .output()?;
    checked(&output, "wrangler kv bulk put")
}

/// Applies the D1 migrations of `migrations/` to the local ledger database under `state`.
pub fn apply_migrations(state: &Path, work_dir: &Path) -> Result<(), HarnessError> {
    let output = wrangler(work_dir)
        .args(OFFICE_CONFIG)
        .args([
            "d1",
            "migrations",
            "apply",
            "paylater-ledger",
            "--local",
            "--persist-to",
        ])
        .arg(state)
        // Not a terminal: wrangler applies without asking.
        .env("CI", "true")
        .output()?;
    checked(&output, "wrangler d1 migrations apply")
}

/// Runs one SQL statement on the local ledger database under `state`, as an operator would with
/// `wrangler d1 execute` (tests use it to take a table away while the edge runs).
pub fn execute_sql(state: &Path, work_dir: &Path, sql: &str) -> Result<(), HarnessError> {
    let output = wrangler(work_dir)
        .args(OFFICE_CONFIG)
        .args([
            "d1",
            "execute",
            "paylater-ledger",
            "--local",
            "--command",
            sql,
            "--persist-to",
        ])
        .arg(state)
        .env("CI", "true")
        .output()?;
    checked(&output, "wrangler d1 execute")
}

/// Puts `file` into the local R2 under `bucket_and_key` (`bucket/key…`), as an operator would
/// with `wrangler r2 object put`.
pub fn put_r2_object(state: &Path, work_dir: &Path, bucket_and_key: &str, file: &Path) -> Result<(), HarnessError> {
    beside_a_running_edge("wrangler r2 object put", || {
        wrangler(work_dir)
            .args(OFFICE_CONFIG)
            .args(["r2", "object", "put", bucket_and_key, "--local", "--persist-to"])
            .arg(state)
            .arg("--file")
            .arg(file)
            .output()
    })
}

/// Runs a wrangler command on the local state of an edge that may be writing to it too: the
/// local R2 is one SQLite database, and a write that meets the edge's (one a record, since the
/// archive stores each record once) fails with R2's "Unspecified error (500)". It is tried again
/// a few times, a moment apart, as an operator would.
fn beside_a_running_edge(
    what: &str,
    mut run: impl FnMut() -> std::io::Result<std::process::Output>,
) -> Result<(), HarnessError> {
    let mut attempts_left = 4;
    loop {
        attempts_left -= 1;
        let output = run()?;
        let said = [&output.stdout, &output.stderr].map(|bytes| String::from_utf8_lossy(bytes).into_owned());
        if output.status.success() || attempts_left == 0 || !said.iter().any(|t| t.contains("Unspecified error")) {
            return checked(&output, what);
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// Deletes `bucket_and_key` (`bucket/key…`) from the local R2, as anyone with write access to
/// the bucket could with `wrangler r2 object delete`.
pub fn delete_r2_object(state: &Path, work_dir: &Path, bucket_and_key: &str) -> Result<(), HarnessError> {
    beside_a_running_edge("wrangler r2 object delete", || {
        wrangler(work_dir)
            .args(OFFICE_CONFIG)
            .args(["r2", "object", "delete", bucket_and_key, "--local", "--persist-to"])
            .arg(state)
            .output()
    })
}

/// Puts many files into the local R2 bucket `bucket` in one `wrangler r2 bulk put`: each
/// `(key, file)`.
pub fn put_r2_objects(
    state: &Path,
    work_dir: &Path,
    bucket: &str,
    entries: &[(String, std::path::PathBuf)],
) -> Result<(), HarnessError> {
    let manifest: Vec<serde_json::Value> = entries
        .iter()
        .map(|(key, file)| serde_json::json!({ "key": key, "file": file }))
        .collect();
    let path = work_dir.join("r2-bulk.json");
    std::fs::write(&path, serde_json::Value::Array(manifest).to_string())?;
    beside_a_running_edge("wrangler r2 bulk put", || {
        wrangler(work_dir)
            .args(OFFICE_CONFIG)
            .args(["r2", "bulk", "put", bucket, "--local", "--persist-to"])
            .arg(state)
            .arg("--filename")
            .arg(&path)
            .output()
    })
}

impl Edge {
    /// Seeds KV, applies the D1 migrations, starts `wrangler dev`, and waits until `/health` answers as only our worker does.
    pub fn start(options: EdgeOptions) -> Result<Self, HarnessError> {
        Self::launch(options, None)
    }

    /// An edge on a free port with the configured vars only, its state in `work_dir`.
    pub fn start_plain(work_dir: &Path) -> Result<Self, HarnessError> {
        Self::start(EdgeOptions {
            config_changes: Vec::new(),
            port: None,
            work_dir: work_dir.to_owned(),
            vars: Vec::new(),
        })
    }

    /// Starts a baseline worker on the same runtime, ready when it gives its own answer.
    pub fn start_baseline(worker: BaselineWorker, options: EdgeOptions) -> Result<Self, HarnessError> {
        Self::launch(options, Some(worker))
    }

    fn launch(options: EdgeOptions, baseline: Option<BaselineWorker>) -> Result<Self, HarnessError> {
        std::fs::create_dir_all(&options.work_dir)?;
        let state = options.work_dir.join("state");
        if baseline.is_none() {
            seed_merchants(&state, &options.work_dir)?;
            apply_migrations(&state, &options.work_dir)?;
        }
        // A free port can be taken by another process between our asking and wrangler binding it
        // (workerd binds ports of its own): then wrangler exits at once, and another is tried.
        let mut attempts_left = if options.port.is_some() { 1 } else { 3 };
        let (server, url, port) = loop {
            attempts_left -= 1;
            match Self::spawn_on_free_ports(&options, baseline, &state) {
                Err(HarnessError::ExitedEarly { log, .. })
                    if attempts_left > 0 && log.contains("Address already in use") =>
                {
                    continue;
                }
                other => break other?,
            }
        };
        Ok(Self {
            url,
            port,
            state_dir: state,
            server,
        })
    }

    /// Starts `wrangler dev` on the given or a free port and waits until it gives our answer.
    fn spawn_on_free_ports(
        options: &EdgeOptions,
        baseline: Option<BaselineWorker>,
        state: &Path,
    ) -> Result<(Server, String, u16), HarnessError> {
        let port = match options.port {
            Some(port) => port,
            None => ports::free_port()?,
        };
        let inspector = ports::free_port()?;
        let mut command = wrangler(&options.work_dir);
        if let Some(worker) = baseline {
            command
                .arg("--config")
                .arg(paths::workspace_root().join(worker.config()));
        } else {
            for config in write_configs(options)? {
                command.arg("--config").arg(config);
            }
        }
        command
            .args(["dev", "--local", "--ip", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--inspector-port",
                &inspector.to_string(),
                "--log-level",
                "log",
                "--show-interactive-dev-session=false",
                // `/__scheduled` runs the cron handler when a test asks.
                "--test-scheduled",
            ])
            .arg("--persist-to")
            .arg(state);
        if baseline.is_some() {
            for (name, value) in &options.vars {
                command.args(["--var", &format!("{name}:{value}")]);
            }
        }
        let mut server = Server::spawn("wrangler dev", command, &options.work_dir.join("edge.log"))?;
        let url = format!("http://127.0.0.1:{port}");
        let health = format!("{url}/health");
        server.wait_ready(Duration::from_secs(90), || {
            // Our worker's answer: the exact body plus the request id header it stamps.
            http::get(&health).is_ok_and(|r| {
                if let Some(worker) = baseline {
                    return r.status == 200 && r.body == worker.ready_body();
                }
                r.status == 200
                    && r.json() == serde_json::json!({ "status": "ok" })
                    && r.header("x-request-id").is_some()
            })
        })?;
        Ok((server, url, port))
    }

    /// A session token from `POST /v1/sessions` for `key`, `amount` minor units of USD, as a
    /// browser on `origin` would get it.
    pub fn session(&self, key: &str, amount: u64, origin: &str) -> Result<String, HarnessError> {
        let body = serde_json::json!({ "key": key, "amount": amount, "currency": "USD" }).to_string();
        let failed = |detail: String| HarnessError::Command {
            what: "POST /v1/sessions".into(),
            detail,
        };
        let reply = http::request(
            "POST",
            &format!("{}/v1/sessions", self.url),
            &[("Origin", origin), ("Content-Type", "application/json")],
            Some(&body),
        )
        .map_err(|e| failed(e.to_string()))?;
        match (reply.status, reply.json()["session_token"].as_str()) {
            (201, Some(token)) => Ok(token.to_owned()),
            _ => Err(failed(format!("{} {}", reply.status, reply.body))),
        }
    }

    pub fn log_text(&self) -> String {
        self.server.log_text()
    }

    pub fn log_path(&self) -> &Path {
        self.server.log_path()
    }

    pub fn pid(&self) -> Option<u32> {
        self.server.pid()
    }

    /// Stops the edge; true if it had to be killed.
    pub fn stop(&mut self) -> bool {
        self.server.stop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "name = \"x\"\nmain = \"edge/build/office/index.js\"\n\n[build]\ncwd = \".\"\n\n[[queues.consumers]]\nmax_retries = 40\n\n[vars]\nLOG_SINK_URL = \"\"\nRETRY_BASE_SECONDS = \"5\"\n\n[observability]\nenabled = true\n";

    #[test]
    fn a_run_config_has_absolute_paths_its_vars_and_changes() {
        let vars = vec![
            ("LOG_SINK_URL".to_owned(), "http://127.0.0.1:9/v1/logs".to_owned()),
            ("DIGEST_PERIOD_SECONDS".to_owned(), "60".to_owned()),
        ];
        let changes = vec![("max_retries = 40".to_owned(), "max_retries = 2".to_owned())];
        let text = config_for_run(CONFIG, Path::new("/w"), &vars, &changes).unwrap();
        assert_eq!(
            text,
            "name = \"x\"\nmain = \"/w/edge/build/office/index.js\"\n\n[build]\ncwd = \"/w/.\"\n\n\
             [[queues.consumers]]\nmax_retries = 2\n\n[vars]\nLOG_SINK_URL = 'http://127.0.0.1:9/v1/logs'\n\
             DIGEST_PERIOD_SECONDS = '60'\nRETRY_BASE_SECONDS = \"5\"\n\n[observability]\nenabled = true\n"
        );
    }

    #[test]
    fn a_change_the_config_lacks_is_refused() {
        let changes = vec![("max_retries = 7".to_owned(), "max_retries = 2".to_owned())];
        assert_eq!(
            config_for_run(CONFIG, Path::new("/w"), &[], &changes),
            Err("the config has no \"max_retries = 7\"".to_owned())
        );
    }

    #[test]
    fn run_vars_replace_dev_vars_of_their_names() {
        let vars = vec![("ARCHIVE_KEYS".to_owned(), "new:AAAA,old:BBBB".to_owned())];
        assert_eq!(
            dev_vars_for_run("# c\nSESSION_KEYS=k:1\nARCHIVE_KEYS=old:BBBB\n", &vars),
            Ok("# c\nSESSION_KEYS=k:1\nARCHIVE_KEYS='new:AAAA,old:BBBB'\n".to_owned())
        );
        let quoted = vec![("A".to_owned(), "it's".to_owned())];
        assert!(dev_vars_for_run("", &quoted).is_err());
    }

    #[test]
    fn vars_make_a_vars_table_where_there_was_none() {
        let vars = vec![("A".to_owned(), "1".to_owned())];
        let text = config_for_run("name = \"x\"\n", Path::new("/w"), &vars, &[]).unwrap();
        assert_eq!(text, "name = \"x\"\n[vars]\nA = '1'\n");
    }
}
