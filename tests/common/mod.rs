//! What the command-line tests share.

use std::process::Command;

/// Runs the swapfuzz binary with `args`: exit status (-1 if killed by a signal), stdout, stderr.
pub fn swapfuzz(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_swapfuzz"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}
