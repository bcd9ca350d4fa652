//! Running commands: echo them, inherit output (or tee it), fail with the command line in the
//! message.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
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

/// Runs `command` like [`run`], but its standard output goes through us: printed as it comes
/// (a test still running shows its name) and handed to `on_line` a whole line at a time, without
/// the line break. Standard error stays inherited.
pub fn run_tee(command: &mut Command, mut on_line: impl FnMut(&str)) -> Result<(), String> {
    let line = describe(command);
    eprintln!("$ {line}");
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start `{line}`: {e}"))?;
    let echoed = match child.stdout.take() {
        Some(stdout) => echo_lines(stdout, std::io::stdout(), &mut on_line),
        None => Ok(()),
    };
    // The pipe is closed by now, so a child that still writes gets EPIPE instead of blocking.
    let status = child.wait().map_err(|e| format!("could not wait for `{line}`: {e}"))?;
    echoed.map_err(|e| format!("could not read the output of `{line}`: {e}"))?;
    if !status.success() {
        return Err(format!(
            "`{line}` failed ({status}) after {:.1} s",
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(())
}

/// Copies `from` to `to` chunk by chunk and calls `on_line` for every line, the last one even
/// without a line break.
fn echo_lines(mut from: impl Read, mut to: impl Write, on_line: &mut impl FnMut(&str)) -> std::io::Result<()> {
    let mut chunk = [0u8; 8192];
    let mut pending = Vec::new();
    loop {
        let read = match from.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        to.write_all(&chunk[..read])?;
        to.flush()?;
        pending.extend_from_slice(&chunk[..read]);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            on_line(String::from_utf8_lossy(&line).trim_end_matches(['\n', '\r']));
        }
    }
    if !pending.is_empty() {
        on_line(String::from_utf8_lossy(&pending).trim_end_matches('\r'));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its bytes a few at a time, as a pipe does.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(self.bytes.len()).min(buffer.len());
            buffer[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn echo_lines_copies_everything_and_splits_lines_across_reads() {
        let output = "running 2 tests\r\ntest a ... ok\n\ntest b ... \u{fc}ok\nno newline at the end";
        for step in [1, 3, 7, 8192] {
            let mut copied = Vec::new();
            let mut lines = Vec::new();
            let from = Trickle {
                bytes: output.as_bytes(),
                step,
            };
            echo_lines(from, &mut copied, &mut |line| lines.push(line.to_owned())).unwrap();
            assert_eq!(copied, output.as_bytes(), "step {step}");
            assert_eq!(
                lines,
                [
                    "running 2 tests",
                    "test a ... ok",
                    "",
                    "test b ... \u{fc}ok",
                    "no newline at the end"
                ],
                "step {step}"
            );
        }
    }
}
