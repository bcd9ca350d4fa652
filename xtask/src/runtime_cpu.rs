//! CPU time of the runtime itself: the `workerd` processes under a `wrangler dev`, read from
//! `/proc`, apart from wrangler's Node proxy in front of them. A bench reads it before and after
//! a load and divides by the requests: what each request cost inside the runtime.

use std::collections::BTreeMap;
use std::process::Command;

/// One process as `/proc/{pid}/stat` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcStat {
    pub pid: u32,
    pub ppid: u32,
    pub command: String,
    /// User plus system time, in clock ticks.
    pub cpu_ticks: u64,
}

/// Reads one `/proc/{pid}/stat` line. The command sits in parentheses and may hold spaces or
/// parentheses itself, so the fields are counted from the last `)`.
pub fn parse_stat(line: &str) -> Option<ProcStat> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let pid = line[..open].trim().parse().ok()?;
    let command = line.get(open + 1..close)?.to_owned();
    // After the command: state(3) ppid(4) … utime(14) stime(15), numbered from 1 with pid.
    let rest: Vec<&str> = line.get(close + 1..)?.split_whitespace().collect();
    let field = |n: usize| rest.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    Some(ProcStat {
        pid,
        ppid: u32::try_from(field(4)?).ok()?,
        command,
        cpu_ticks: field(14)? + field(15)?,
    })
}

/// The CPU ticks of every `workerd` among `root`'s descendants (and `root` itself).
pub fn workerd_ticks(processes: &[ProcStat], root: u32) -> u64 {
    let mut children: BTreeMap<u32, Vec<&ProcStat>> = BTreeMap::new();
    for process in processes {
        children.entry(process.ppid).or_default().push(process);
    }
    let mut total = 0;
    let mut stack = vec![root];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(pid) = stack.pop() {
        if !seen.insert(pid) {
            continue;
        }
        if let Some(process) = processes.iter().find(|p| p.pid == pid)
            && process.command == "workerd"
        {
            total += process.cpu_ticks;
        }
        for child in children.get(&pid).into_iter().flatten() {
            stack.push(child.pid);
        }
    }
    total
}

/// Every process `/proc` lists now.
pub fn processes() -> Vec<ProcStat> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|line| parse_stat(&line))
        .collect()
}

/// Milliseconds of CPU the `workerd` processes under `root` have used so far.
pub fn workerd_cpu_ms(root: u32) -> f64 {
    workerd_ticks(&processes(), root) as f64 * 1000.0 / clock_ticks_per_second()
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse::<f64>().ok())
        .filter(|ticks| *ticks > 0.0)
        .unwrap_or(100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(pid: u32, ppid: u32, command: &str, utime: u64, stime: u64) -> String {
        format!("{pid} ({command}) S {ppid} 1 1 0 -1 4194560 100 0 0 0 {utime} {stime} 0 0 20 0 9 0 500 1000 200")
    }

    #[test]
    fn stat_lines_are_read_from_the_last_parenthesis() {
        let line = stat(4242, 7, "work (er) d", 150, 50);
        assert_eq!(
            parse_stat(&line),
            Some(ProcStat {
                pid: 4242,
                ppid: 7,
                command: "work (er) d".into(),
                cpu_ticks: 200,
            })
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("12 (x) S"), None);
    }

    #[test]
    fn only_workerd_under_the_root_counts() {
        let processes: Vec<ProcStat> = [
            stat(10, 1, "node", 500, 100),
            stat(11, 10, "workerd", 70, 30),
            stat(12, 11, "workerd", 5, 5),
            stat(13, 10, "esbuild", 40, 0),
            stat(20, 1, "workerd", 999, 999),
        ]
        .iter()
        .filter_map(|line| parse_stat(line))
        .collect();
        assert_eq!(workerd_ticks(&processes, 10), 110);
        assert_eq!(workerd_ticks(&processes, 20), 1998);
        assert_eq!(workerd_ticks(&processes, 99), 0);
    }
}
