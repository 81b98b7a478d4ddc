//! Reads `strace -f -tt -e trace=process` logs (written with `-o FILE`, every line starting with
//! the pid, or on stderr, with `[pid N]` prefixes and none for the first process).
//!
//! Kept: successful `execve`/`execveat`, `clone`/`clone3`/`fork`/`vfork` that create a process
//! (not a thread), and `+++ exited with N +++` / `+++ killed by SIG… +++`. Calls split over two
//! lines (`<unfinished ...>` … `<... execve resumed>`) are joined. Other system calls and signal
//! lines are skipped; a line that is none of these is an error at its line and column.

use super::{Observation, RecordError};
use std::collections::{HashMap, HashSet};
use std::path::Path;

struct Line<'a> {
    pid: i32,
    time_us: i64,
    rest: &'a str,
    /// Byte offset of `rest` in the line, for columns.
    at: usize,
}

fn err(path: &Path, line: usize, column: usize, message: impl Into<String>) -> RecordError {
    RecordError::Log {
        path: path.to_path_buf(),
        line,
        column,
        message: message.into(),
    }
}

/// `HH:MM:SS.micro` (-tt) as microseconds of day 1970-01-01, or `secs.micro` (-ttt).
fn parse_time(s: &str) -> Option<i64> {
    let (whole, frac) = s.split_once('.')?;
    if frac.len() != 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let micros: i64 = frac.parse().ok()?;
    let secs = if whole.contains(':') {
        let parts: Vec<i64> = whole
            .split(':')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        let [h, m, s] = parts[..] else { return None };
        if h > 23 || m > 59 || s > 60 {
            return None;
        }
        h * 3600 + m * 60 + s
    } else {
        whole.parse().ok()?
    };
    Some(secs * 1_000_000 + micros)
}

fn split_line(text: &str) -> Option<Line<'_>> {
    let trimmed = text.trim_start();
    let (pid, rest) = if let Some(r) = trimmed.strip_prefix("[pid") {
        let close = r.find(']')?;
        (r[..close].trim().parse().ok()?, &r[close + 1..])
    } else {
        let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
        let after = &trimmed[digits..];
        // A leading number followed by a space and a time is a pid; a time alone is not.
        let time_follows = after.starts_with(' ')
            && after
                .split_whitespace()
                .next()
                .is_some_and(|w| parse_time(w).is_some());
        if digits > 0 && time_follows {
            (trimmed[..digits].parse().ok()?, after)
        } else {
            (0, trimmed)
        }
    };
    let t = rest.trim_start();
    let word = t.split_whitespace().next()?;
    let time_us = parse_time(word)?;
    let rest = t[word.len()..].trim_start();
    Some(Line {
        pid,
        time_us,
        rest,
        at: text.len() - rest.len(),
    })
}

/// A C string as strace prints it, starting at `s[0] == '"'`: the text and the bytes used
/// (a trailing `...` of a truncated string included).
fn c_string(s: &str) -> Option<(String, usize)> {
    let b = s.as_bytes();
    if b.first() != Some(&b'"') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let mut end = i + 1;
                if s[end..].starts_with("...") {
                    end += 3;
                }
                return Some((String::from_utf8_lossy(&out).into_owned(), end));
            }
            b'\\' => {
                let c = *b.get(i + 1)?;
                i += 2;
                match c {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'v' => out.push(0x0b),
                    b'f' => out.push(0x0c),
                    b'x' => {
                        let h = s.get(i..i + 2)?;
                        out.push(u8::from_str_radix(h, 16).ok()?);
                        i += 2;
                    }
                    b'0'..=b'7' => {
                        let mut v = u32::from(c - b'0');
                        let mut n = 1;
                        while n < 3 && b.get(i).is_some_and(|d| (b'0'..=b'7').contains(d)) {
                            v = v * 8 + u32::from(b[i] - b'0');
                            i += 1;
                            n += 1;
                        }
                        out.push(u8::try_from(v).ok()?);
                    }
                    other => out.push(other),
                }
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    None
}

/// `["a", "b", ...]`: the strings and the bytes used.
fn string_array(s: &str) -> Option<(Vec<String>, usize)> {
    if !s.starts_with('[') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 1;
    loop {
        let rest = &s[i..];
        let skipped = rest.len() - rest.trim_start_matches([' ', ',']).len();
        i += skipped;
        let rest = &s[i..];
        if let Some(r) = rest.strip_prefix(']') {
            let _ = r;
            return Some((out, i + 1));
        }
        if rest.starts_with("...") {
            i += 3;
            continue;
        }
        let (text, used) = c_string(rest)?;
        out.push(text);
        i += used;
    }
}

/// The return value after the last ` = `, as an integer (None for `?` or an error).
fn result(s: &str) -> Option<i64> {
    let (_, r) = s.rsplit_once(" = ")?;
    r.split_whitespace().next()?.parse().ok()
}

fn signal_number(name: &str) -> i32 {
    const SIGNALS: [&str; 31] = [
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    SIGNALS
        .iter()
        .position(|s| *s == name)
        .map_or(0, |i| i as i32 + 1)
}

const IGNORED: &[&str] = &[
    "wait4(",
    "waitid(",
    "exit(",
    "exit_group(",
    "kill(",
    "tkill(",
    "tgkill(",
    "rt_sigreturn(",
    "pidfd_open(",
    "pidfd_send_signal(",
    "prctl(",
    "arch_prctl(",
    "unshare(",
    "setns(",
];

struct Parser<'p> {
    path: &'p Path,
    out: Vec<Observation>,
    pending: HashMap<i32, String>,
    threads: HashSet<i32>,
}

impl Parser<'_> {
    fn call(&mut self, no: usize, l: &Line<'_>, call: &str) -> Result<(), RecordError> {
        let name_end = call.find('(').unwrap_or(0);
        let name = &call[..name_end];
        let ours = matches!(
            name,
            "execve" | "execveat" | "clone" | "clone3" | "fork" | "vfork"
        );
        if ours && !call.contains(" = ") {
            return Err(err(
                self.path,
                no,
                l.at + 1,
                format!("`{name}` without a result (a cut-off line?)"),
            ));
        }
        match name {
            "execve" | "execveat" => {
                if result(call) != Some(0) {
                    return Ok(());
                }
                let open = name_end + 1;
                let mut i = open;
                if name == "execveat" {
                    // execveat(dirfd, "path", [argv], envp, flags)
                    i += call[i..].find('"').ok_or_else(|| {
                        err(self.path, no, l.at + i + 1, "execveat without a path")
                    })?;
                }
                let bad = |i: usize, what: &str| err(self.path, no, l.at + i + 1, what.to_string());
                let (exe, used) = c_string(&call[i..])
                    .ok_or_else(|| bad(i, "expected the executable path as a quoted string"))?;
                i += used;
                i += call[i..].len() - call[i..].trim_start_matches([',', ' ']).len();
                let (args, _) = string_array(&call[i..])
                    .ok_or_else(|| bad(i, "expected the argument list [\"...\", ...]"))?;
                self.out.push(Observation::Exec {
                    time_us: l.time_us,
                    pid: l.pid,
                    name: Some(exe.rsplit('/').next().unwrap_or(&exe).to_string()),
                    executable: exe,
                    args,
                    cwd: None,
                    ids: None,
                    pgid: None,
                    sid: None,
                });
            }
            "clone" | "clone3" | "fork" | "vfork" => {
                let Some(child) = result(call).filter(|&c| c > 0) else {
                    return Ok(());
                };
                let child = i32::try_from(child)
                    .map_err(|_| err(self.path, no, l.at + 1, "child pid out of range"))?;
                if call.contains("CLONE_THREAD") {
                    self.threads.insert(child);
                } else {
                    self.out.push(Observation::Fork {
                        time_us: l.time_us,
                        parent: l.pid,
                        child,
                    });
                }
            }
            _ if IGNORED.iter().any(|p| call.starts_with(p)) => {}
            _ if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && name_end > 0 => {
                // Another system call (the log traced more than `process`): not ours to judge.
            }
            _ => {
                return Err(err(
                    self.path,
                    no,
                    l.at + 1,
                    format!("not an strace line: {call:?}"),
                ));
            }
        }
        Ok(())
    }

    fn line(&mut self, no: usize, text: &str) -> Result<(), RecordError> {
        if text.trim().is_empty() || text.starts_with("strace: Process ") {
            return Ok(());
        }
        let l = split_line(text).ok_or_else(|| {
            err(
                self.path,
                no,
                1,
                "expected `[PID] HH:MM:SS.micro call(...)` (strace -f -tt)",
            )
        })?;
        let rest = l.rest;
        if rest.starts_with("---") {
            return Ok(());
        }
        if let Some(r) = rest.strip_prefix("+++ ") {
            if self.threads.contains(&l.pid) {
                return Ok(());
            }
            let code = if let Some(c) = r.strip_prefix("exited with ") {
                c.split_whitespace().next().and_then(|n| n.parse().ok())
            } else if let Some(s) = r.strip_prefix("killed by ") {
                s.split_whitespace()
                    .next()
                    .map(|sig| 128 + signal_number(sig))
            } else {
                None
            };
            let code = code.ok_or_else(|| err(self.path, no, l.at + 1, "unknown +++ line"))?;
            self.out.push(Observation::Exit {
                time_us: l.time_us,
                pid: l.pid,
                code,
            });
            return Ok(());
        }
        if let Some(r) = rest.strip_prefix("<... ") {
            let Some((_, tail)) = r.split_once(" resumed>") else {
                return Err(err(self.path, no, l.at + 1, "malformed resumed call"));
            };
            let Some(head) = self.pending.remove(&l.pid) else {
                // The start was before the log began: nothing to join.
                return Ok(());
            };
            let joined = format!("{head}{tail}");
            return self.call(no, &l, &joined);
        }
        if let Some(head) = rest.strip_suffix("<unfinished ...>") {
            self.pending.insert(l.pid, head.trim_end().to_string());
            return Ok(());
        }
        self.call(no, &l, rest)
    }
}

/// Parses a whole log into observations, in log order.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Observation>, RecordError> {
    let mut p = Parser {
        path,
        out: Vec::new(),
        pending: HashMap::new(),
        threads: HashSet::new(),
    };
    for (i, line) in text.lines().enumerate() {
        p.line(i + 1, line)?;
    }
    Ok(p.out)
}

#[cfg(test)]
mod tests;
