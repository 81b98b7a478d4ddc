use super::*;
use crate::record::Observation;
use std::path::Path;

const LOG: &str = r#"4100  10:11:12.000001 execve("/usr/bin/bash", ["bash", "-c", "gunzip -c /boot/vmlinuz-x | wc -c"], 0x7ffc0 /* 20 vars */) = 0
4100  10:11:12.000900 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f12) = 4101
4100  10:11:12.001000 clone3({flags=CLONE_VM|CLONE_VFORK|CLONE_CLEAR_SIGHAND, exit_signal=SIGCHLD, stack=0x7f, stack_size=0x9000}, 88 <unfinished ...>
4101  10:11:12.001100 execve("/usr/bin/gunzip", ["gunzip", "-c", "/boot/vmlinuz-x"], 0x55 /* 20 vars */) = 0
4100  10:11:12.001200 <... clone3 resumed>) = 4102
4102  10:11:12.001300 execve("/usr/local/bin/wc", ["wc", "-c"], 0x55 /* 20 vars */) = -1 ENOENT (No such file or directory)
4102  10:11:12.001400 execve("/usr/bin/wc", ["wc", "-c"], 0x55 /* 20 vars */) = 0
4101  10:11:12.001500 clone(child_stack=0x7f, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM) = 4103
4103  10:11:12.001600 +++ exited with 0 +++
4101  10:11:12.002000 exit_group(0)             = ?
4101  10:11:12.002100 +++ exited with 0 +++
4100  10:11:12.002200 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=4101, si_uid=0, si_status=0} ---
4102  10:11:12.002300 +++ killed by SIGPIPE +++
4100  10:11:12.002400 wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 4102
4100  10:11:12.002500 +++ exited with 141 +++
"#;

#[test]
fn a_pipeline_log_gives_forks_execs_and_exits_without_threads_or_failed_execs() {
    let obs = parse(LOG, Path::new("log")).unwrap();
    let t = |s: f64| (36672.0 * 1e6 + s * 1e6).round() as i64;
    assert_eq!(obs.len(), 8, "{obs:#?}");
    assert!(
        matches!(&obs[0], Observation::Exec { pid: 4100, executable, .. } if executable == "/usr/bin/bash")
    );
    assert_eq!(
        obs[1],
        Observation::Fork {
            time_us: t(0.0009),
            parent: 4100,
            child: 4101
        }
    );
    match &obs[2] {
        Observation::Exec {
            pid, name, args, ..
        } => {
            assert_eq!(*pid, 4101);
            assert_eq!(name.as_deref(), Some("gunzip"));
            assert_eq!(args, &["gunzip", "-c", "/boot/vmlinuz-x"]);
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(
        obs[3],
        Observation::Fork {
            time_us: t(0.0012),
            parent: 4100,
            child: 4102
        }
    );
    assert!(
        matches!(&obs[4], Observation::Exec { pid: 4102, executable, .. } if executable == "/usr/bin/wc")
    );
    assert_eq!(
        obs[5],
        Observation::Exit {
            time_us: t(0.0021),
            pid: 4101,
            code: 0
        }
    );
    assert_eq!(
        obs[6],
        Observation::Exit {
            time_us: t(0.0023),
            pid: 4102,
            code: 128 + 13
        }
    );
    assert_eq!(
        obs[7],
        Observation::Exit {
            time_us: t(0.0025),
            pid: 4100,
            code: 141
        }
    );
}

#[test]
fn stderr_style_logs_with_pid_brackets_and_escapes_parse() {
    let log = "10:00:00.000001 execve(\"/bin/sh\", [\"sh\", \"-c\", \"echo \\\"a\\tb\\\" \\303\\251\"], 0x1 /* 1 var */) = 0\n\
               10:00:00.000002 vfork() = 77\n\
               [pid    77] 10:00:00.000003 execve(\"/usr/bin/file\", [\"file\", \"/boot/x\"...], 0x1 /* 1 var */) = 0\n\
               [pid    77] 10:00:00.000004 +++ exited with 1 +++\n";
    let obs = parse(log, Path::new("log")).unwrap();
    match &obs[0] {
        Observation::Exec { args, .. } => assert_eq!(args[2], "echo \"a\tb\" é"),
        o => panic!("{o:?}"),
    }
    assert_eq!(
        obs[1],
        Observation::Fork {
            time_us: 36_000_000_002,
            parent: 0,
            child: 77
        }
    );
    match &obs[2] {
        Observation::Exec { pid: 77, args, .. } => assert_eq!(args, &["file", "/boot/x"]),
        o => panic!("{o:?}"),
    }
}

#[test]
fn garbage_is_an_error_at_its_line_and_column() {
    let log = "4100  10:11:12.000001 execve(\"/bin/true\", [\"true\"], 0x1) = 0\nhello world\n";
    let e = parse(log, Path::new("x.log")).unwrap_err().to_string();
    assert!(
        e.starts_with("x.log:2:1: expected `[PID] HH:MM:SS.micro"),
        "{e}"
    );
    let log = "4100  10:11:12.000001 execve(\"/bin/true\", 0x1) = 0\n";
    let e = parse(log, Path::new("x.log")).unwrap_err().to_string();
    assert!(
        e.starts_with("x.log:1:") && e.contains("argument list"),
        "{e}"
    );
    let log = "4100  10:11:12.000001 execve(\"/bin/tr";
    assert!(parse(log, Path::new("x.log")).is_err());
}
