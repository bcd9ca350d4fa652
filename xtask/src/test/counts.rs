//! How many tests a test command ran, read from what it prints, so a layer that ran nothing
//! (a renamed folder, a filter that matches nothing) fails instead of passing empty.

/// Tests that ran (passed or failed) and tests skipped, summed over every binary or file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestCounts {
    pub passed: u64,
    pub failed: u64,
    /// Ignored (cargo) or skipped and todo (node): listed but not run.
    pub skipped: u64,
}

impl TestCounts {
    pub fn ran(&self) -> u64 {
        self.passed + self.failed
    }
}

/// Who prints the output, since each reports its counts its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    /// libtest and wasm-bindgen-test-runner: one `test result: ok. 3 passed; 0 failed;
    /// 1 ignored; …` line per test binary (doc-tests included), summed.
    Cargo,
    /// `node --test --test-reporter=tap`: one summary at the very end (`# pass 3`, `# fail 0`,
    /// `# skipped 1`, `# todo 0`) for all files. A spec's own console output also comes out as
    /// `# …` lines, earlier, so the last value of each wins.
    Node,
}

/// Counts line by line, for output that is printed while it is read.
#[derive(Debug, Clone)]
pub struct Counter {
    runner: Runner,
    counts: TestCounts,
    node_todo: u64,
    node_skipped: u64,
}

impl Counter {
    pub fn new(runner: Runner) -> Self {
        Self {
            runner,
            counts: TestCounts::default(),
            node_todo: 0,
            node_skipped: 0,
        }
    }

    pub fn line(&mut self, line: &str) {
        match self.runner {
            Runner::Cargo => {
                if let Some(result) = cargo_result(line) {
                    self.counts.passed += result.passed;
                    self.counts.failed += result.failed;
                    self.counts.skipped += result.skipped;
                }
            }
            Runner::Node => {
                let Some((name, value)) = node_summary(line) else {
                    return;
                };
                match name {
                    "pass" => self.counts.passed = value,
                    "fail" => self.counts.failed = value,
                    "skipped" => self.node_skipped = value,
                    "todo" => self.node_todo = value,
                    _ => {}
                }
            }
        }
    }

    pub fn counts(&self) -> TestCounts {
        match self.runner {
            Runner::Cargo => self.counts,
            Runner::Node => TestCounts {
                skipped: self.node_skipped + self.node_todo,
                ..self.counts
            },
        }
    }
}

/// `test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 5 filtered out; finished in
/// 0.01s`: the counts by their names, whatever else the line holds.
fn cargo_result(line: &str) -> Option<TestCounts> {
    let (_, counts) = line.trim_start().strip_prefix("test result: ")?.split_once(". ")?;
    let mut result = TestCounts::default();
    for part in counts.split(';') {
        let Some((number, name)) = part.trim().split_once(' ') else {
            continue;
        };
        let Ok(number) = number.parse::<u64>() else {
            continue;
        };
        match name {
            "passed" => result.passed = number,
            "failed" => result.failed = number,
            "ignored" => result.skipped = number,
            _ => {}
        }
    }
    Some(result)
}

/// `# pass 12` at the start of a line: node's TAP summary (a subtest's lines are indented).
fn node_summary(line: &str) -> Option<(&str, u64)> {
    let (name, value) = line.strip_prefix("# ")?.split_once(' ')?;
    Some((name, value.trim_end().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counts of a whole output, fed line by line as `cmd::run_tee` does.
    fn count(runner: Runner, output: &str) -> TestCounts {
        let mut counter = Counter::new(runner);
        for line in output.lines() {
            counter.line(line);
        }
        counter.counts()
    }

    const fn counts(passed: u64, failed: u64, skipped: u64) -> TestCounts {
        TestCounts {
            passed,
            failed,
            skipped,
        }
    }

    #[test]
    fn counts_are_read_from_real_looking_output() {
        let cases: [(&str, Runner, &str, TestCounts); 9] = [
            ("nothing printed", Runner::Cargo, "", counts(0, 0, 0)),
            (
                "cargo, every binary empty",
                Runner::Cargo,
                "
running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
",
                counts(0, 0, 0),
            ),
            (
                "cargo, unit tests, an integration test and doc-tests",
                Runner::Cargo,
                "
running 3 tests
test date::tests::leap_years ... ok
test date::tests::epoch_and_known_days ... ok
test date::tests::bench ... ignored

test result: ok. 2 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s

running 5 tests
test session_token_of_a_removed_key_is_refused_as_unknown_key ... ok

test result: ok. 5 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

running 1 test
test shared/src/lib.rs - (line 7) ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.20s
",
                counts(8, 0, 1),
            ),
            (
                "cargo, a failure",
                Runner::Cargo,
                "
running 2 tests
test a ... ok
test b ... FAILED

failures:

---- b stdout ----
thread 'b' panicked at src/lib.rs:3:5:
assertion `left == right` failed

failures:
    b

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 4 filtered out; finished in 0.00s
",
                counts(1, 1, 0),
            ),
            (
                "wasm-bindgen-test-runner: a binary without tests, then one with",
                Runner::Cargo,
                "no tests to run!
Set timeout to 60 seconds...
Running headless tests in Chrome on `http://127.0.0.1:39113/`
running 4 tests

test paylater_card::card::tests::paints_terms ... ok
test paylater_card::card::tests::reports_errors ... ok

test result: ok. 4 passed; 0 failed; 0 ignored; 0 filtered out; finished in 1.25s
",
                counts(4, 0, 0),
            ),
            (
                "node, nothing matched",
                Runner::Node,
                "TAP version 13
1..0
# tests 0
# suites 0
# pass 0
# fail 0
# cancelled 0
# skipped 0
# todo 0
# duration_ms 17.088956
",
                counts(0, 0, 0),
            ),
            (
                "node, subtests, a skip and a failure",
                Runner::Node,
                "TAP version 13
# Subtest: two
    # Subtest: sub
    ok 1 - sub
    1..1
    # pass 99
ok 1 - two
# Subtest: skipped
ok 2 - skipped # SKIP
# Subtest: fails
not ok 3 - fails
1..3
# tests 4
# suites 0
# pass 2
# fail 1
# cancelled 0
# skipped 1
# todo 0
# duration_ms 348.475761
",
                counts(2, 1, 1),
            ),
            (
                "node, a spec logging summary-like lines before the summary",
                Runner::Node,
                "TAP version 13
# tests 99
# \\# pass 42
# pass 42
# Subtest: logs
ok 1 - logs
1..1
# tests 1
# suites 0
# pass 1
# fail 0
# cancelled 0
# skipped 0
# todo 1
# duration_ms 249.468759
",
                counts(1, 0, 1),
            ),
            (
                "node, a file that does not load counts as a failed test",
                Runner::Node,
                "TAP version 13
# SyntaxError: Unexpected identifier 'error'
# Subtest: broken.spec.mjs
not ok 1 - broken.spec.mjs
1..1
# tests 1
# suites 0
# pass 0
# fail 1
",
                counts(0, 1, 0),
            ),
        ];
        for (name, runner, output, expected) in cases {
            assert_eq!(count(runner, output), expected, "{name}");
        }
    }

    #[test]
    fn only_what_ran_counts_as_ran() {
        assert_eq!(counts(0, 0, 7).ran(), 0);
        assert_eq!(counts(2, 1, 7).ran(), 3);
    }

    #[test]
    fn lines_that_only_look_like_results_are_not_counted() {
        let lines = [
            "test result: ok",
            "test result:ok. 3 passed",
            "the test result: ok. 3 passed; 0 failed",
            "test result: ok. three passed; 0 failed",
        ];
        for line in lines {
            assert_eq!(count(Runner::Cargo, line), counts(0, 0, 0), "{line:?}");
        }
        for line in ["#pass 3", "  # pass 3", "# pass three", "# pass"] {
            assert_eq!(count(Runner::Node, line), counts(0, 0, 0), "{line:?}");
        }
    }
}
