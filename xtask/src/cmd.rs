//! Running commands: echo them, inherit output, fail with the command line in the message.

use std::process::Command;
use std::time::Instant;

/// Runs `command` to completion; an error names it and its exit status.
pub fn run(command: &mut Command) -> Result<(), String> {
    let line = describe(command);
    eprintln!("$ {line}");
    let started = Instant::now();
    let status = command.status().map_err(|e| format!("could not start `{line}`: {e}"))?;
    if !status.success() {
        return Err(format!(
            "`{line}` failed ({status}) after {:.1} s",
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(())
}

/// Runs `command` and returns its stdout, or `None` if it could not run or failed.
pub fn output(command: &mut Command) -> Option<String> {
    let out = command.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn describe(command: &Command) -> String {
    let mut parts = vec![command.get_program().to_string_lossy().into_owned()];
    parts.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}
