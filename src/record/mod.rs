//! `ruleforge record`: a command's whole process tree as Elastic Defend process events.
//!
//! Two sources feed one event builder ([`events`]):
//! - [`tracer`]: runs a command under ptrace (the nix crate) and follows forks, vforks, clones
//!   and execs, reading each new image from `/proc` (executable, arguments, working directory,
//!   user and group ids, process group and session);
//! - [`strace`]: parses a log a user captured elsewhere with `strace -f -tt -e trace=process`.
//!
//! Both produce [`Observation`]s (fork, exec, exit, with microsecond times); the builder keeps a
//! process table and writes `fork`, `exec` and `end` events with the fields the Linux rules
//! read. What neither source can see is listed by [`Recording::unobserved`], and the manifest
//! stub says so.

pub mod events;
pub mod host;
pub mod strace;
#[cfg(target_os = "linux")]
pub mod tracer;

use std::path::PathBuf;

/// User and group ids of a process image (real and effective).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ids {
    pub uid: u32,
    pub euid: u32,
    pub gid: u32,
    pub egid: u32,
}

/// What the tracer or a log saw, in the order it happened. Times are epoch microseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// `child` was created by `parent` (fork, vfork or a clone that is a new process).
    Fork {
        time_us: i64,
        parent: i32,
        child: i32,
    },
    /// `pid` executed a new image.
    Exec {
        time_us: i64,
        pid: i32,
        /// The executable file (`/proc/PID/exe`; the execve path for strace logs).
        executable: String,
        /// The base name the kernel gave the process (`comm`): for a script, the script's.
        name: Option<String>,
        args: Vec<String>,
        cwd: Option<String>,
        ids: Option<Ids>,
        /// Process group and session ids, when the source knows them.
        pgid: Option<i32>,
        sid: Option<i32>,
    },
    /// `pid` ended with `code` (128 + signal number when killed by a signal).
    Exit { time_us: i64, pid: i32, code: i32 },
}

/// Errors of recording, with the location in a log where there is one.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{path}:{line}:{column}: {message}")]
    Log {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0}")]
    Trace(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("nothing was recorded: {0}")]
    Empty(String),
}

/// How a recording is written.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Deterministic output: pids renumbered from 1000 in order of appearance, times replaced by
    /// a fixed start plus one millisecond per observation, entity ids derived from both.
    pub normalize: bool,
}

/// A finished recording: the observations and the host they were made on.
#[derive(Debug, Clone)]
pub struct Recording {
    pub observations: Vec<Observation>,
    pub host: host::HostInfo,
    /// The command that was run (or the log that was read), for the manifest.
    pub command: String,
    /// How the observations were made: "ptrace" or "strace log".
    pub source: &'static str,
}

impl Recording {
    /// The fields the source could not observe, for the manifest's `recorded`.
    pub fn unobserved(&self) -> &'static str {
        match self.source {
            "ptrace" => {
                "not observable by the tracer: interactive/tty detail and entry_meta (the entry \
leader is the recording's first process, entry_meta.type \"unknown\"), event.ingested (set to \
@timestamp); process.executable is /proc/PID/exe (for a script, its interpreter); exit codes of \
killed processes are 128 + the signal"
            }
            _ => {
                "not in an strace log: working directories, user and group ids (left out), \
process groups and sessions (the group and session leader are the log's first process), \
interactive/tty detail and entry_meta (\"unknown\"), event.ingested (set to @timestamp); \
process.name is the base name of the execve path"
            }
        }
    }

    /// The NDJSON events, one line each.
    pub fn to_ndjson(&self, opts: &Options) -> Result<String, RecordError> {
        let events = events::build(&self.observations, &self.host, opts)?;
        let mut out = String::new();
        for e in events {
            out.push_str(&e.to_string());
            out.push('\n');
        }
        Ok(out)
    }

    /// A manifest stub for the recording: the verdict and description are left for a person
    /// (a manifest with `verdict = "TODO"` does not load, so it cannot pass unnoticed).
    pub fn manifest_stub(&self, events_file: &str, opts: &Options) -> String {
        let recorded = format!(
            "recorded by ruleforge record ({}) on host {} ({}, kernel {}){}; command: {}; {}",
            self.source,
            self.host.name,
            self.host.os_full,
            self.host.kernel,
            if opts.normalize {
                ", normalised (pids from 1000, one millisecond per observation from 2026-01-01T00:00:00Z)"
            } else {
                ""
            },
            self.command,
            self.unobserved()
        );
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        format!(
            "description = \"TODO: what happened, in one sentence\"\nverdict = \"TODO\"   # benign | malicious\nrecorded = {}\nevents = {}\n",
            q(&recorded),
            q(events_file)
        )
    }
}

/// Reads an strace log (`strace -f -tt -e trace=process`) into a recording.
pub fn from_strace_file(path: &std::path::Path) -> Result<Recording, RecordError> {
    let text = std::fs::read_to_string(path).map_err(|source| RecordError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let observations = strace::parse(&text, path)?;
    if observations.is_empty() {
        return Err(RecordError::Empty(format!(
            "{}: no fork, exec or exit in the log (was it written with strace -f -tt -e trace=process?)",
            path.display()
        )));
    }
    Ok(Recording {
        observations,
        // The log was captured elsewhere: only "Linux" is certain about its host.
        host: host::HostInfo::unknown_linux(),
        command: format!("strace log {}", path.display()),
        source: "strace log",
    })
}
