//! Deterministic synthetic Elastic Defend events, for replay benchmarks and equivalence tests.
//!
//! Process, file and network events for Linux, Windows and macOS hosts, in timestamp order,
//! with skewed value distributions (a few hosts, users and binaries dominate, as in real
//! fleets). At a small rate an event instead carries the literal values of one rule's query
//! ([`seeds_from_rules`]), so that rules of a corpus fire now and then. The same seed gives
//! the same events on every machine.

use crate::rule::Rule;
use serde_json::{Map, Value, json};

/// xorshift64*: small, fast and reproducible everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// An index skewed towards the start (roughly Zipf-like): popular values dominate.
    pub fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n);
        let b = self.below(n);
        a.min(b)
    }

    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.skewed(xs.len())]
    }
}

/// The field values one rule's query looks for, as (dotted field, value) pairs.
#[derive(Debug, Clone)]
pub struct Seed {
    pub category: Option<String>,
    pub fields: Vec<(String, Value)>,
}

/// Literal `field : value`, `field == value` and `field in (values)` pairs of each EQL/KQL
/// query (the first value of a list; `*` wildcards filled with a letter).
pub fn seeds_from_rules(rules: &[&Rule]) -> Vec<Seed> {
    let pair = regex::Regex::new(
        r#"([A-Za-z_@][\w.@-]*)\s*(?:==|:|\s(?:in|like)~?)\s*\(?\s*"((?:[^"\\]|\\.)*)""#,
    );
    let category = regex::Regex::new(r"^\s*(?:sequence[^\[]*\[\s*)?([a-z_]+)\s+where\b");
    let (Ok(pair), Ok(category)) = (pair, category) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for r in rules {
        let Some(q) = &r.query else { continue };
        let mut fields: Vec<(String, Value)> = Vec::new();
        for c in pair.captures_iter(&q.text) {
            let field = c[1].to_string();
            if fields.iter().any(|(f, _)| *f == field) {
                continue;
            }
            let v = c[2].replace("\\\\", "\\").replace(['*', '?'], "x");
            fields.push((field, Value::String(v)));
        }
        if fields.is_empty() {
            continue;
        }
        let category = category
            .captures(&q.text)
            .map(|c| c[1].to_string())
            .filter(|c| c != "any");
        out.push(Seed { category, fields });
    }
    out
}

const LINUX_BINS: &[(&str, &str)] = &[
    ("bash", "/usr/bin/bash"),
    ("sshd", "/usr/sbin/sshd"),
    ("python3", "/usr/bin/python3"),
    ("systemd", "/usr/lib/systemd/systemd"),
    ("cron", "/usr/sbin/cron"),
    ("curl", "/usr/bin/curl"),
    ("tar", "/usr/bin/tar"),
    ("grep", "/usr/bin/grep"),
    ("sudo", "/usr/bin/sudo"),
    ("dpkg", "/usr/bin/dpkg"),
];
const WINDOWS_BINS: &[(&str, &str)] = &[
    ("svchost.exe", "C:\\Windows\\System32\\svchost.exe"),
    ("explorer.exe", "C:\\Windows\\explorer.exe"),
    ("cmd.exe", "C:\\Windows\\System32\\cmd.exe"),
    (
        "powershell.exe",
        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    ),
    (
        "chrome.exe",
        "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
    ),
    ("rundll32.exe", "C:\\Windows\\System32\\rundll32.exe"),
    ("msiexec.exe", "C:\\Windows\\System32\\msiexec.exe"),
    ("conhost.exe", "C:\\Windows\\System32\\conhost.exe"),
];
const MAC_BINS: &[(&str, &str)] = &[
    ("zsh", "/bin/zsh"),
    ("launchd", "/sbin/launchd"),
    ("osascript", "/usr/bin/osascript"),
    ("curl", "/usr/bin/curl"),
    ("Safari", "/Applications/Safari.app/Contents/MacOS/Safari"),
    (
        "mdworker_shared",
        "/System/Library/Frameworks/CoreServices.framework/mdworker_shared",
    ),
];
const ARGS: &[&str] = &[
    "-c",
    "/tmp/run.sh",
    "--quiet",
    "-la",
    "/etc/passwd",
    "install",
    "-f",
    "/var/log/syslog",
    "https://example.org/a",
    "/boot/vmlinuz-6.1.0-28-amd64",
    "-enc",
    "start",
];
const USERS: &[&str] = &[
    "root",
    "ubuntu",
    "alice",
    "bob",
    "SYSTEM",
    "admin",
    "svc_backup",
];
const FILES: &[&str] = &[
    "/tmp/x.sh",
    "/etc/cron.d/job",
    "/var/lib/dpkg/status",
    "C:\\Users\\alice\\AppData\\Local\\Temp\\a.ps1",
    "C:\\Windows\\Temp\\setup.exe",
    "/Users/alice/Library/LaunchAgents/com.example.plist",
    "/home/ubuntu/.ssh/authorized_keys",
];

/// Endless stream of events; `next_event` gives them in timestamp order.
pub struct Generator {
    rng: Rng,
    seeds: Vec<Seed>,
    /// Events per 10,000 that carry a rule's literals.
    seed_rate: u64,
    now_ms: i64,
    count: u64,
}

impl Generator {
    pub fn new(seed: u64, seeds: Vec<Seed>, seed_rate_per_10k: u64) -> Generator {
        Generator {
            rng: Rng::new(seed),
            seeds,
            seed_rate: seed_rate_per_10k,
            // 2026-11-26T00:00:00Z
            now_ms: 1_795_651_200_000,
            count: 0,
        }
    }

    pub fn next_event(&mut self) -> Value {
        self.count += 1;
        self.now_ms +=
            (self.rng.below(40) as i64) + if self.rng.below(50) == 0 { 5_000 } else { 0 };
        let os = match self.rng.below(10) {
            0..=4 => 0,
            5..=8 => 1,
            _ => 2,
        };
        let (os_type, platform, bins, host_prefix) = match os {
            0 => ("linux", "ubuntu", LINUX_BINS, "ubu2204-app"),
            1 => ("windows", "windows", WINDOWS_BINS, "WIN-DESK"),
            _ => ("macos", "macos", MAC_BINS, "mac-lap"),
        };
        let host_n = self.rng.skewed(40);
        let host = format!("{host_prefix}-{host_n:02}");
        let pick = |rng: &mut Rng| bins[rng.skewed(bins.len())];
        let (name, exe) = pick(&mut self.rng);
        let (pname, pexe) = pick(&mut self.rng);
        let nargs = self.rng.below(3);
        let mut args = vec![Value::String(exe.to_string())];
        for _ in 0..nargs {
            args.push(Value::String(self.rng.pick(ARGS).to_string()));
        }
        let command_line = args
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" ");
        let pid = 1000 + self.rng.below(60_000);
        let ppid = 1 + self.rng.below(5_000);
        let kind = self.rng.below(10);
        let (category, etype, action, dataset) = match kind {
            0..=5 => ("process", "start", "exec", "endpoint.events.process"),
            6..=8 => ("file", "creation", "creation", "endpoint.events.file"),
            _ => (
                "network",
                "start",
                "connection_attempted",
                "endpoint.events.network",
            ),
        };
        let user = self.rng.pick(USERS);
        let mut ev = json!({
            "@timestamp": crate::event::format_millis(self.now_ms),
            "agent": {"type": "endpoint", "version": "9.2.1", "id": format!("agent-{host_n:04}")},
            "data_stream": {"dataset": dataset, "namespace": "default", "type": "logs"},
            "ecs": {"version": "8.11.0"},
            "event": {
                "action": action, "category": [category], "type": [etype], "kind": "event",
                "dataset": dataset, "module": "endpoint", "sequence": self.count,
                "outcome": "success",
            },
            "host": {
                "name": host, "hostname": host, "id": format!("{:032x}", host_n * 7919 + os),
                "os": {"type": os_type, "platform": platform, "family": platform, "name": os_type},
            },
            "user": {"name": user, "id": format!("{}", self.rng.below(2000))},
            "process": {
                "name": name, "executable": exe, "args": args, "args_count": nargs + 1,
                "command_line": command_line, "pid": pid,
                "entity_id": format!("{host_n:02}-{pid}-{}", self.count),
                "parent": {
                    "name": pname, "executable": pexe, "pid": ppid,
                    "entity_id": format!("{host_n:02}-{ppid}"),
                    "command_line": pexe, "args": [pexe],
                },
            },
            "message": "Endpoint event",
        });
        if category == "file" {
            let path = self.rng.pick(FILES);
            let fname = path.rsplit(['/', '\\']).next().unwrap_or(path);
            set_path(&mut ev, "file.path", json!(path));
            set_path(&mut ev, "file.name", json!(fname));
            let ext = fname.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
            set_path(&mut ev, "file.extension", json!(ext));
        } else if category == "network" {
            let port = [443, 80, 53, 22, 4444, 8080][self.rng.skewed(6)];
            set_path(&mut ev, "destination.port", json!(port));
            let ip = format!(
                "10.{}.{}.{}",
                self.rng.below(4),
                self.rng.below(255),
                1 + self.rng.below(250)
            );
            set_path(&mut ev, "destination.ip", json!(ip));
            set_path(&mut ev, "source.ip", json!("10.0.0.5"));
            set_path(&mut ev, "network.direction", json!("egress"));
            set_path(&mut ev, "network.transport", json!("tcp"));
        }
        if !self.seeds.is_empty() && self.rng.below(10_000) < self.seed_rate as usize {
            let s = &self.seeds[self.rng.below(self.seeds.len())];
            if let Some(c) = &s.category {
                set_path(&mut ev, "event.category", json!([c]));
            }
            for (f, v) in &s.fields {
                set_path(&mut ev, f, v.clone());
            }
        }
        ev
    }
}

/// Sets a dotted field in nested objects; a path blocked by a non-object value is left alone.
fn set_path(ev: &mut Value, path: &str, value: Value) {
    let mut cur = ev;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        let Value::Object(m) = cur else { return };
        if i + 1 == parts.len() {
            m.insert((*p).to_string(), value);
            return;
        }
        cur = m
            .entry((*p).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_events_in_time_order() {
        let mut a = Generator::new(7, Vec::new(), 0);
        let mut b = Generator::new(7, Vec::new(), 0);
        let mut last = i64::MIN;
        for _ in 0..500 {
            let (x, y) = (a.next_event(), b.next_event());
            assert_eq!(x, y);
            let ts = crate::event::parse_timestamp(&x["@timestamp"]).unwrap();
            assert!(ts >= last);
            last = ts;
        }
    }

    #[test]
    fn seeded_values_land_on_their_fields() {
        let seed = Seed {
            category: Some("process".into()),
            fields: vec![("process.name".into(), json!("gunzip"))],
        };
        let mut g = Generator::new(1, vec![seed], 10_000);
        let ev = g.next_event();
        assert_eq!(ev["process"]["name"], "gunzip");
        assert_eq!(ev["event"]["category"], json!(["process"]));
    }
}
