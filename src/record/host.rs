//! The host a recording was made on: name, id, operating system and kernel.

use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub struct HostInfo {
    pub name: String,
    /// `/etc/machine-id`, or empty when unknown.
    pub id: String,
    pub os_name: String,
    pub os_full: String,
    pub os_family: String,
    pub os_platform: String,
    pub os_version: String,
    /// Kernel release and version (`uname -r -v`).
    pub kernel: String,
    pub architecture: String,
}

fn os_release() -> Vec<(String, String)> {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

impl HostInfo {
    /// The machine this process runs on.
    pub fn current() -> HostInfo {
        let rel = os_release();
        let get = |k: &str| {
            rel.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let read = |p: &str| {
            std::fs::read_to_string(p)
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let family = {
            let like = get("ID_LIKE");
            let id = get("ID");
            like.split_whitespace().next().map_or(id, str::to_string)
        };
        HostInfo {
            name: read("/proc/sys/kernel/hostname"),
            id: read("/etc/machine-id"),
            os_name: "Linux".into(),
            os_full: {
                let pretty = get("PRETTY_NAME");
                if pretty.is_empty() {
                    get("NAME")
                } else {
                    pretty
                }
            },
            os_family: family,
            os_platform: get("ID"),
            os_version: get("VERSION_ID"),
            kernel: format!(
                "{} {}",
                read("/proc/sys/kernel/osrelease"),
                read("/proc/sys/kernel/version")
            ),
            architecture: std::env::consts::ARCH.to_string(),
        }
    }

    /// A Linux host nothing else is known about (an strace log from elsewhere).
    pub fn unknown_linux() -> HostInfo {
        HostInfo {
            name: "unknown".into(),
            id: String::new(),
            os_name: "Linux".into(),
            os_full: "unknown Linux distribution".into(),
            os_family: String::new(),
            os_platform: String::new(),
            os_version: String::new(),
            kernel: "unknown".into(),
            architecture: String::new(),
        }
    }

    /// The `host` object of an event.
    pub fn to_json(&self) -> Value {
        let mut os = json!({"name": self.os_name, "type": "linux", "full": self.os_full,
            "kernel": self.kernel});
        for (k, v) in [
            ("family", &self.os_family),
            ("platform", &self.os_platform),
            ("version", &self.os_version),
        ] {
            if !v.is_empty() {
                os[k] = json!(v);
            }
        }
        let mut host = json!({"name": self.name, "hostname": self.name, "os": os});
        if !self.id.is_empty() {
            host["id"] = json!(self.id);
        }
        if !self.architecture.is_empty() {
            host["architecture"] = json!(self.architecture);
        }
        host
    }
}
