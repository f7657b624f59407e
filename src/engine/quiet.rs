//! Keeping panics inside engine runs off stderr (see [`quiet_panics`]).

use std::cell::Cell;
use std::panic;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    /// Nesting depth of engine runs on this OS thread.
    static IN_RUN: Cell<usize> = const { Cell::new(0) };
}

/// [`silence_shuttle`] was called: the outermost run points stderr at /dev/null.
static SILENT: AtomicBool = AtomicBool::new(false);

/// Marks the current OS thread as inside an engine run while it lives; with
/// [`silence_shuttle`], the outermost one also mutes file descriptor 2.
#[derive(Debug)]
pub(crate) struct RunGuard {
    /// The real stderr, saved while muted.
    saved: Option<i32>,
}

impl RunGuard {
    pub fn enter() -> Self {
        let depth = IN_RUN.get();
        IN_RUN.set(depth + 1);
        let saved = (depth == 0 && SILENT.load(Ordering::Relaxed))
            .then(mute_stderr)
            .flatten();
        RunGuard { saved }
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if let Some(fd) = self.saved.take() {
            // SAFETY: `fd` is the duplicate of stderr saved by `mute_stderr`, still open.
            unsafe {
                libc::dup2(fd, 2);
                libc::close(fd);
            }
        }
        IN_RUN.set(IN_RUN.get() - 1);
    }
}

/// Points fd 2 at /dev/null; returns a duplicate of the old fd 2 to restore it.
fn mute_stderr() -> Option<i32> {
    use std::io::Write;
    let _ = std::io::stderr().flush();
    // Opened once: hunt mutes stderr for every batch it runs.
    static NULL: std::sync::OnceLock<Option<std::fs::File>> = std::sync::OnceLock::new();
    let null = NULL
        .get_or_init(|| {
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/null")
                .ok()
        })
        .as_ref()?;
    // SAFETY: plain descriptor calls; `null` stays open for the life of the process.
    unsafe {
        let saved = libc::dup(2);
        if saved < 0 {
            return None;
        }
        if libc::dup2(std::os::fd::AsRawFd::as_raw_fd(null), 2) < 0 {
            libc::close(saved);
            return None;
        }
        Some(saved)
    }
}

/// Makes engine runs silent on stderr, for a command-line program: shuttle prints `test
/// panicked in task '…'` (and a deadlock's notice) with `eprintln!` directly, once per failing
/// execution, which no panic hook can stop. While a run is in progress on the calling process,
/// file descriptor 2 points at /dev/null; it is restored when the run returns, before the caller
/// sees the outcome (which carries the panic message). Process-wide and permanent: call it once,
/// from a `main` whose other threads do not write to stderr during runs. Implies
/// [`quiet_panics`].
pub fn silence_shuttle() {
    quiet_panics();
    SILENT.store(true, Ordering::Relaxed);
}

/// Whether the current OS thread is inside an engine run.
pub fn in_engine_run() -> bool {
    IN_RUN.get() > 0
}

/// Silences the panic hook for panics inside engine runs, process-wide. Idempotent.
///
/// A panic in a shuttle task goes through the process-wide panic hook. Shuttle installs its own
/// hook once, on the first execution in the process, wrapping the hook it finds then; it prints
/// `Task failed, serializing schedule` and `test panicked in task '…'` and then calls the wrapped
/// hook, whose default prints the panic message. A fuzzer or minimizer that runs thousands of
/// failing executions would flood stderr.
///
/// [`quiet_panics`] makes shuttle install its hook first (with a trivial run), then wraps it in a
/// hook that returns at once while the panicking thread is inside an engine run (the runners set
/// a thread-local flag; every shuttle task runs on the caller's OS thread). Panics outside engine
/// runs are reported as before.
///
/// What shuttle still prints, because it calls `eprintln!` directly rather than from the hook
/// (shuttle-engine 0.1.8, `Execution::failure`):
/// * `test panicked in task '<name>'`, once per execution that a task panic fails;
/// * `Test deadlocked, and SHUTTLE_CAPTURE_BACKTRACE is not set. …`, once per deadlock.
///
/// Under libFuzzer, do not let a panic escape inside the run: libfuzzer-sys's hook would not be
/// reached while quiet. Have the fuzz target inspect the [`Outcome`](super::Outcome) and panic
/// *after* the run, where the hook chain (and libFuzzer's abort) is active again.
///
/// Shuttle's hook keeps the configuration of the first execution in the process; the trivial run
/// used here has `FailurePersistence::None`, so later shuttle tests outside the engine that rely on
/// the *hook* to print their failing schedule (only relevant when another hook aborts the process)
/// will not get it printed.
pub fn quiet_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let mut config = super::run::shuttle_config(&super::EngineConfig::default());
        config.max_steps = shuttle::MaxSteps::FailAfter(16);
        shuttle::Runner::new(shuttle::scheduler::RoundRobinScheduler::new(1), config).run(|| {});
        let inner = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !in_engine_run() {
                inner(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineConfig, Outcome, run_once};

    const CHILD_ENV: &str = "SWAPFUZZ_ENGINE_QUIET_CHILD";

    /// Runs failing executions with quiet panics; does its work only as a child of
    /// `quiet_run_prints_only_shuttles_direct_lines`.
    #[test]
    fn quiet_child() {
        if std::env::var_os(CHILD_ENV).is_none() {
            return;
        }
        quiet_panics();
        quiet_panics();
        for _ in 0..5 {
            let e = run_once(&[], &EngineConfig::default(), || {
                panic!("QUIET-PANIC-MESSAGE")
            });
            assert_eq!(e.outcome, Outcome::Panic("QUIET-PANIC-MESSAGE".into()));
        }
        eprintln!("CHILD-DONE");
        // Outside a run the hook chain is intact.
        let _ = panic::catch_unwind(|| panic!("OUTSIDE-PANIC"));
    }

    #[test]
    fn quiet_run_prints_only_shuttles_direct_lines() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "engine::quiet::tests::quiet_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "child failed: {stderr}");
        assert!(stderr.contains("CHILD-DONE"), "{stderr}");
        assert!(stderr.contains("OUTSIDE-PANIC"), "{stderr}");
        assert!(!stderr.contains("QUIET-PANIC-MESSAGE"), "{stderr}");
        // Only the panic outside the runs reaches shuttle's hook.
        assert_eq!(stderr.matches("Task failed").count(), 1, "{stderr}");
        // Printed by shuttle outside the hook, once per failing execution.
        assert_eq!(
            stderr
                .matches("test panicked in task 'main-thread'")
                .count(),
            5,
            "{stderr}"
        );
    }
}
