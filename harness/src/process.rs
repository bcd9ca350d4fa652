//! Children in their own process group, so stopping one stops everything it started (wrangler
//! starts workerd; trunk starts cargo). Stopped by their own PGID, never by name.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

use crate::HarnessError;

/// A running child whose output goes to a log file.
pub struct Server {
    what: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Server {
    /// Spawns `command` in a new process group, stdout and stderr to `log`.
    pub fn spawn(what: &str, mut command: Command, log: &Path) -> Result<Self, HarnessError> {
        let out = File::create(log)?;
        let err = out.try_clone()?;
        command.stdin(Stdio::null()).stdout(out).stderr(err).process_group(0);
        let child = command.spawn().map_err(|source| HarnessError::Spawn {
            what: what.to_owned(),
            source,
        })?;
        Ok(Self {
            what: what.to_owned(),
            child: Some(child),
            log: log.to_owned(),
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails if the child has exited.
    pub fn check_alive(&mut self) -> Result<(), HarnessError> {
        let Some(child) = self.child.as_mut() else {
            return Err(HarnessError::ExitedEarly {
                what: self.what.clone(),
                status: "stopped".into(),
                log: self.log_text(),
            });
        };
        match child.try_wait()? {
            None => Ok(()),
            Some(status) => Err(HarnessError::ExitedEarly {
                what: self.what.clone(),
                status: status.to_string(),
                log: self.log_text(),
            }),
        }
    }

    /// Polls `probe` until it says ready, the child dies, or `timeout` passes.
    pub fn wait_ready(&mut self, timeout: Duration, mut probe: impl FnMut() -> bool) -> Result<(), HarnessError> {
        let deadline = Instant::now() + timeout;
        loop {
            self.check_alive()?;
            if probe() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::NotReady {
                    what: self.what.clone(),
                    seconds: timeout.as_secs(),
                    log: self.log_text(),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGINT to the group (trunk and wrangler shut down cleanly on it; trunk ignores SIGTERM),
    /// then SIGKILL if anything of it lingers. Returns whether SIGKILL was needed.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let Ok(pgid) = i32::try_from(child.id()) else {
            return false;
        };
        signal_group(pgid, libc::SIGINT);
        let graceful = wait_until(Duration::from_secs(10), || {
            matches!(child.try_wait(), Ok(Some(_))) && !group_alive(child.id())
        });
        if !graceful {
            signal_group(pgid, libc::SIGKILL);
            let _ = child.wait();
            wait_until(Duration::from_secs(5), || !group_alive(child.id()));
        }
        !graceful
    }
}

fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal_group(pgid: i32, signal: i32) {
    // SAFETY: kill(2) with a negative pid signals that process group; no memory is involved.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

/// Whether any live (non-zombie) process belongs to the group. Reads /proc rather than probing
/// with signal 0, because orphaned children that exited stay zombies when nobody reaps them.
pub fn group_alive(pgid: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses, so split after
        // the last ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let group = fields.nth(1).and_then(|g| g.parse::<u32>().ok());
        group == Some(pgid) && state != Some("Z") && state != Some("X")
    })
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
