//! From observations to Elastic Defend process events (`fork`, `exec`, `end`), with a process
//! table that carries each process's image, parent, group, session and entry leader.

use super::host::HostInfo;
use super::{Ids, Observation, Options, RecordError};
use base64_engine::encode;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Base64 without a dependency: entity ids are base64 text in Defend's events.
mod base64_engine {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(data: &[u8]) -> String {
        let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
        for chunk in data.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

/// One process image as the table holds it.
#[derive(Debug, Clone)]
struct Image {
    pid: i32,
    entity_id: String,
    start_us: i64,
    name: String,
    executable: String,
    args: Vec<String>,
    cwd: Option<String>,
    ids: Option<Ids>,
    parent: Option<i32>,
    pgid: Option<i32>,
    sid: Option<i32>,
}

/// Fixed start of normalised recordings: 2026-01-01T00:00:00Z.
const NORMAL_START_US: i64 = 1_767_225_600_000_000;

/// Renumbers pids and times when normalising; identity otherwise.
struct Normalizer {
    on: bool,
    pids: HashMap<i32, i32>,
    /// Group and session leaders outside the recording (the recorder's own), numbered from 100
    /// so they do not shift the recording's pids.
    outside: HashMap<i32, i32>,
    step: i64,
}

impl Normalizer {
    fn pid(&mut self, p: i32) -> i32 {
        if !self.on {
            return p;
        }
        let next = 1000 + self.pids.len() as i32;
        *self.pids.entry(p).or_insert(next)
    }

    /// A group or session leader: a pid of the recording when it is one, else numbered apart.
    fn leader(&mut self, p: i32) -> i32 {
        if !self.on {
            return p;
        }
        if let Some(&n) = self.pids.get(&p) {
            return n;
        }
        let next = 100 + self.outside.len() as i32;
        *self.outside.entry(p).or_insert(next)
    }

    fn time(&mut self, t: i64) -> i64 {
        if !self.on {
            return t;
        }
        let t = NORMAL_START_US + self.step * 1000;
        self.step += 1;
        t
    }
}

pub(crate) fn timestamp(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Names of users and groups from `/etc/passwd` and `/etc/group` of this machine.
#[derive(Default)]
struct Names {
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
}

impl Names {
    fn load() -> Names {
        let table = |path: &str| -> HashMap<u32, String> {
            std::fs::read_to_string(path)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| {
                    let mut f = l.split(':');
                    let name = f.next()?;
                    let id = f.nth(1)?.parse().ok()?;
                    Some((id, name.to_string()))
                })
                .collect()
        };
        Names {
            users: table("/etc/passwd"),
            groups: table("/etc/group"),
        }
    }

    fn user(&self, id: u32) -> Value {
        let mut v = json!({"id": id.to_string()});
        if let Some(n) = self.users.get(&id) {
            v["name"] = json!(n);
        }
        v
    }

    fn group(&self, id: u32) -> Value {
        let mut v = json!({"id": id.to_string()});
        if let Some(n) = self.groups.get(&id) {
            v["name"] = json!(n);
        }
        v
    }
}

struct Builder<'h> {
    host: &'h HostInfo,
    table: HashMap<i32, Image>,
    names: Names,
    norm: Normalizer,
    /// The first process of the recording: entry leader, and the fallback group and session
    /// leader when the source does not know them.
    root: Option<i32>,
    out: Vec<Value>,
}

fn base_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

impl Builder<'_> {
    fn entity_id(&self, pid: i32, start_us: i64) -> String {
        let host = if self.host.id.is_empty() {
            &self.host.name
        } else {
            &self.host.id
        };
        encode(format!("{host}-{pid}-{}", start_us / 1000).as_bytes())
    }

    fn brief(&self, img: &Image) -> Value {
        let mut v = json!({
            "pid": img.pid, "entity_id": img.entity_id, "name": img.name,
            "executable": img.executable, "args": img.args, "args_count": img.args.len(),
            "command_line": img.args.join(" "), "start": timestamp(img.start_us),
        });
        if let Some(cwd) = &img.cwd {
            v["working_directory"] = json!(cwd);
        }
        if let Some(ids) = img.ids {
            v["user"] = self.names.user(ids.euid);
            v["group"] = self.names.group(ids.egid);
        }
        v
    }

    fn leader(&self, img: &Image, which: Option<i32>, field: &str) -> Value {
        let pid = which.or(self.root).unwrap_or(img.pid);
        match self.table.get(&pid) {
            Some(l) => {
                let mut v = self.brief(l);
                v["same_as_process"] = json!(l.pid == img.pid);
                if field == "entry_leader" {
                    v["entry_meta"] = json!({"type": "unknown"});
                }
                v
            }
            None => json!({"pid": pid}),
        }
    }

    fn event(&self, img: &Image, action: &str, time_us: i64, exit: Option<i32>) -> Value {
        let ts = timestamp(time_us);
        let mut p = self.brief(img);
        if let Some(parent) = img.parent.and_then(|pp| self.table.get(&pp)) {
            p["parent"] = self.brief(parent);
        }
        p["group_leader"] = self.leader(img, img.pgid, "group_leader");
        p["session_leader"] = self.leader(img, img.sid, "session_leader");
        p["entry_leader"] = self.leader(img, self.root, "entry_leader");
        if let Some(ids) = img.ids {
            p["real_user"] = self.names.user(ids.uid);
            p["real_group"] = self.names.group(ids.gid);
        }
        if let Some(code) = exit {
            p["exit_code"] = json!(code);
            p["end"] = json!(ts);
        }
        let kind = if action == "end" { "end" } else { "start" };
        let mut e = json!({
            "@timestamp": ts,
            "event": {"action": action, "type": [kind], "category": ["process"], "kind": "event",
                "dataset": "endpoint.events.process", "module": "endpoint", "created": ts,
                "ingested": ts},
            "data_stream": {"dataset": "endpoint.events.process", "namespace": "default", "type": "logs"},
            "ecs": {"version": "8.11.0"},
            "host": self.host.to_json(),
            "message": "Endpoint process event",
            "process": p,
        });
        if let Some(ids) = img.ids {
            e["user"] = self.names.user(ids.euid);
            e["group"] = self.names.group(ids.egid);
        }
        e
    }

    fn observe(&mut self, o: &Observation) -> Result<(), RecordError> {
        match o {
            Observation::Fork {
                time_us,
                parent,
                child,
            } => {
                let t = self.norm.time(*time_us);
                let (parent, child) = (self.norm.pid(*parent), self.norm.pid(*child));
                let Some(p) = self.table.get(&parent).cloned() else {
                    // A fork by a process whose image was never seen (the log starts midway):
                    // the child's exec will introduce it.
                    return Ok(());
                };
                let img = Image {
                    pid: child,
                    entity_id: self.entity_id(child, t),
                    start_us: t,
                    parent: Some(parent),
                    ..p
                };
                let ev = self.event(&img, "fork", t, None);
                self.table.insert(child, img);
                self.out.push(ev);
            }
            Observation::Exec {
                time_us,
                pid,
                executable,
                name,
                args,
                cwd,
                ids,
                pgid,
                sid,
            } => {
                let t = self.norm.time(*time_us);
                let pid = self.norm.pid(*pid);
                let pgid = pgid.map(|g| self.norm.leader(g));
                let sid = sid.map(|s| self.norm.leader(s));
                let old = self.table.get(&pid).cloned();
                self.root.get_or_insert(pid);
                let img = Image {
                    pid,
                    entity_id: old
                        .as_ref()
                        .map_or_else(|| self.entity_id(pid, t), |o| o.entity_id.clone()),
                    start_us: old.as_ref().map_or(t, |o| o.start_us),
                    name: name.clone().unwrap_or_else(|| {
                        base_name(args.first().map_or(executable.as_str(), |a| a.as_str()))
                    }),
                    executable: executable.clone(),
                    args: args.clone(),
                    cwd: cwd
                        .clone()
                        .or_else(|| old.as_ref().and_then(|o| o.cwd.clone())),
                    ids: ids.or(old.as_ref().and_then(|o| o.ids)),
                    parent: old.as_ref().and_then(|o| o.parent),
                    pgid,
                    sid,
                };
                let ev = self.event(&img, "exec", t, None);
                self.table.insert(pid, img);
                self.out.push(ev);
            }
            Observation::Exit { time_us, pid, code } => {
                let t = self.norm.time(*time_us);
                let pid = self.norm.pid(*pid);
                if let Some(img) = self.table.get(&pid).cloned() {
                    let ev = self.event(&img, "end", t, Some(*code));
                    self.out.push(ev);
                }
            }
        }
        Ok(())
    }
}

/// Builds the events of a recording, in observation order.
pub fn build(
    observations: &[Observation],
    host: &HostInfo,
    opts: &Options,
) -> Result<Vec<Value>, RecordError> {
    let mut b = Builder {
        host,
        table: HashMap::new(),
        names: Names::load(),
        norm: Normalizer {
            on: opts.normalize,
            pids: HashMap::new(),
            outside: HashMap::new(),
            step: 0,
        },
        root: None,
        out: Vec::new(),
    };
    for o in observations {
        b.observe(o)?;
    }
    if b.out.is_empty() {
        return Err(RecordError::Empty(
            "no process event could be built (no exec was observed)".into(),
        ));
    }
    Ok(b.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_microseconds_and_civil_dates() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            timestamp(NORMAL_START_US + 1_500),
            "2026-01-01T00:00:00.001500Z"
        );
        assert_eq!(
            timestamp(951_782_400_000_000),
            "2000-02-29T00:00:00.000000Z"
        );
    }

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(encode(b"a-1-2"), "YS0xLTI=");
        assert_eq!(encode(b"ab"), "YWI=");
        assert_eq!(encode(b"abc"), "YWJj");
    }
}
