//! Keeping panics inside engine runs off stderr (see [`quiet_panics`]).

use std::cell::Cell;
use std::panic;
use std::sync::Once;

thread_local! {
    /// Nesting depth of engine runs on this OS thread.
    static IN_RUN: Cell<usize> = const { Cell::new(0) };
}

/// Marks the current OS thread as inside an engine run while it lives.
#[derive(Debug)]
pub(crate) struct RunGuard(());

impl RunGuard {
    pub fn enter() -> Self {
        IN_RUN.set(IN_RUN.get() + 1);
        RunGuard(())
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        IN_RUN.set(IN_RUN.get() - 1);
    }
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
