//! Standard output that does not lose reports silently. A write error other than a closed pipe
//! (a full disk, `> /dev/full`, a file-size limit) is remembered and turns the exit code into 2
//! when the command ends; a closed pipe (`ruleforge lint | head -1`) ends the output quietly.

use std::io::{self, Write as _};
use std::sync::Mutex;

#[derive(Default)]
struct State {
    /// The reader went away: nothing more is written, and that is not an error.
    closed: bool,
    /// The first write error that was not a closed pipe.
    failed: Option<io::Error>,
}

static STATE: Mutex<State> = Mutex::new(State {
    closed: false,
    failed: None,
});

fn state() -> std::sync::MutexGuard<'static, State> {
    // A panic while holding the lock cannot leave the two fields inconsistent.
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

fn record(st: &mut State, e: io::Error) {
    if e.kind() == io::ErrorKind::BrokenPipe {
        st.closed = true;
    } else if st.failed.is_none() {
        st.failed = Some(e);
    }
}

/// Writes `bytes` to standard output, remembering a failure instead of returning it.
pub fn write(bytes: &[u8]) {
    let mut st = state();
    if st.closed || st.failed.is_some() {
        return;
    }
    if let Err(e) = io::stdout().lock().write_all(bytes) {
        record(&mut st, e);
    }
}

/// Flushes standard output; returns the first write error that was not a closed pipe.
pub fn finish() -> Result<(), io::Error> {
    let mut st = state();
    if !st.closed && st.failed.is_none() {
        if let Err(e) = io::stdout().lock().flush() {
            record(&mut st, e);
        }
    }
    match st.failed.take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
