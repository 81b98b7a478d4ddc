//! Runs a command under ptrace and observes its whole process tree: every fork, vfork and
//! clone that makes a process (threads are followed but not reported), every exec (the new
//! image read from `/proc`), every exit.

use super::{Ids, Observation, RecordError};
use nix::errno::Errno;
use nix::sys::ptrace::{self, Event, Options};
use nix::sys::signal::{Signal, raise};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, execvp, fork};
use std::collections::{HashMap, HashSet};
use std::ffi::CString;

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

fn trace_err(what: &str, e: Errno) -> RecordError {
    RecordError::Trace(format!("{what}: {e}"))
}

/// `/proc/PID/status` fields `Tgid`, `Uid` and `Gid`.
fn proc_status(pid: i32) -> (Option<i32>, Option<Ids>) {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return (None, None);
    };
    let field = |name: &str| -> Vec<u32> {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| {
                v.split_whitespace()
                    .filter_map(|n| n.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let tgid = field("Tgid:").first().map(|&t| t as i32);
    let (u, g) = (field("Uid:"), field("Gid:"));
    let ids = (u.len() >= 2 && g.len() >= 2).then(|| Ids {
        uid: u[0],
        euid: u[1],
        gid: g[0],
        egid: g[1],
    });
    (tgid, ids)
}

/// Process group and session from `/proc/PID/stat` (fields after the command name).
fn group_and_session(pid: i32) -> (Option<i32>, Option<i32>) {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return (None, None);
    };
    let Some(close) = text.rfind(')') else {
        return (None, None);
    };
    let f: Vec<&str> = text[close + 1..].split_whitespace().collect();
    // state ppid pgrp session ...
    (
        f.get(2).and_then(|v| v.parse().ok()),
        f.get(3).and_then(|v| v.parse().ok()),
    )
}

fn exec_observation(pid: i32, time_us: i64) -> Observation {
    let link = |what: &str| {
        std::fs::read_link(format!("/proc/{pid}/{what}"))
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
    };
    let args: Vec<String> = std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap_or_default()
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|c| c.trim_end_matches('\n').to_string());
    let (_, ids) = proc_status(pid);
    let (pgid, sid) = group_and_session(pid);
    Observation::Exec {
        time_us,
        pid,
        executable: link("exe").unwrap_or_default(),
        name,
        args,
        cwd: link("cwd"),
        ids,
        pgid,
        sid,
    }
}

/// Runs `program args…` to completion under ptrace; returns what happened and the exit code
/// of the command itself.
pub fn trace(program: &str, args: &[String]) -> Result<(Vec<Observation>, i32), RecordError> {
    let cprog = CString::new(program)
        .map_err(|_| RecordError::Trace("the command contains a NUL byte".into()))?;
    let mut cargs = vec![cprog.clone()];
    for a in args {
        cargs.push(
            CString::new(a.as_str())
                .map_err(|_| RecordError::Trace("an argument contains a NUL byte".into()))?,
        );
    }
    // SAFETY: the child only calls async-signal-safe functions (ptrace, raise, execvp with
    // arguments prepared before the fork, _exit).
    match unsafe { fork() }.map_err(|e| trace_err("fork", e))? {
        ForkResult::Child => {
            let _ = ptrace::traceme();
            let _ = raise(Signal::SIGSTOP);
            let _ = execvp(&cprog, &cargs);
            // SAFETY: exiting the forked child without running the parent's destructors.
            unsafe { nix::libc::_exit(127) }
        }
        ForkResult::Parent { child } => follow(child),
    }
}

/// The tracing loop over the whole tree.
fn follow(root: Pid) -> Result<(Vec<Observation>, i32), RecordError> {
    match waitpid(root, Some(WaitPidFlag::__WALL)).map_err(|e| trace_err("waitpid", e))? {
        WaitStatus::Stopped(_, Signal::SIGSTOP) => {}
        other => {
            return Err(RecordError::Trace(format!(
                "the command did not start: {other:?}"
            )));
        }
    }
    let opts = Options::PTRACE_O_TRACEFORK
        | Options::PTRACE_O_TRACEVFORK
        | Options::PTRACE_O_TRACECLONE
        | Options::PTRACE_O_TRACEEXEC
        | Options::PTRACE_O_EXITKILL;
    ptrace::setoptions(root, opts).map_err(|e| trace_err("ptrace setoptions", e))?;
    ptrace::cont(root, None).map_err(|e| trace_err("ptrace cont", e))?;

    let mut out = Vec::new();
    let mut threads: HashSet<i32> = HashSet::new();
    // Tasks that stopped before their creator's event arrived (they need a plain cont).
    let mut live: HashMap<i32, bool> = HashMap::from([(root.as_raw(), true)]);
    let mut root_code = 0;
    loop {
        let status = match waitpid(None, Some(WaitPidFlag::__WALL)) {
            Ok(s) => s,
            Err(Errno::ECHILD) => break,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(trace_err("waitpid", e)),
        };
        match status {
            WaitStatus::PtraceEvent(pid, _, ev) => {
                let t = now_us();
                let raw = pid.as_raw();
                if ev == Event::PTRACE_EVENT_FORK as i32
                    || ev == Event::PTRACE_EVENT_VFORK as i32
                    || ev == Event::PTRACE_EVENT_CLONE as i32
                {
                    if let Ok(new) = ptrace::getevent(pid) {
                        let new = new as i32;
                        let (tgid, _) = proc_status(new);
                        // A clone that shares the thread group is a thread, not a process.
                        let parent_tgid = proc_status(raw).0.unwrap_or(raw);
                        if ev == Event::PTRACE_EVENT_CLONE as i32 && tgid == Some(parent_tgid) {
                            threads.insert(new);
                        } else {
                            out.push(Observation::Fork {
                                time_us: t,
                                parent: parent_tgid,
                                child: new,
                            });
                        }
                        live.entry(new).or_insert(false);
                    }
                } else if ev == Event::PTRACE_EVENT_EXEC as i32 {
                    out.push(exec_observation(raw, t));
                }
                let _ = ptrace::cont(pid, None);
            }
            WaitStatus::Stopped(pid, sig) => {
                let raw = pid.as_raw();
                // A new task's first stop is SIGSTOP: swallow it; deliver every other signal.
                let first = !live.get(&raw).copied().unwrap_or(false);
                live.insert(raw, true);
                let deliver = if first && sig == Signal::SIGSTOP {
                    None
                } else {
                    Some(sig)
                };
                let _ = ptrace::cont(pid, deliver);
            }
            WaitStatus::Exited(pid, code) => {
                let raw = pid.as_raw();
                live.remove(&raw);
                if !threads.remove(&raw) {
                    out.push(Observation::Exit {
                        time_us: now_us(),
                        pid: raw,
                        code,
                    });
                }
                if pid == root {
                    root_code = code;
                }
            }
            WaitStatus::Signaled(pid, sig, _) => {
                let raw = pid.as_raw();
                live.remove(&raw);
                let code = 128 + sig as i32;
                if !threads.remove(&raw) {
                    out.push(Observation::Exit {
                        time_us: now_us(),
                        pid: raw,
                        code,
                    });
                }
                if pid == root {
                    root_code = code;
                }
            }
            _ => {}
        }
    }
    Ok((out, root_code))
}
