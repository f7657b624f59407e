//! The oracle of the libFuzzer targets (`fuzz/fuzz_targets/`): decode, run, and panic on a bug
//! *after* the run, in the target's own thread, where libFuzzer's panic hook aborts and saves
//! the input.
//!
//! Inside the run the engine keeps panics quiet ([`quiet_panics`]), so a kernel bug detected by
//! the model comes back as a [`Verdict`] instead of reaching libFuzzer's hook mid-execution.

use once_cell::sync::Lazy;

use crate::check::run::{Verdict, run_program};
use crate::engine::{EngineConfig, quiet_panics};
use crate::model::{ModelConfig, Variant};
use crate::program::bytes::decode;

/// Environment variable that overrides a target's "spinlocks are RCU readers" switch:
/// `1`/`on`/`true` or `0`/`off`/`false`. Read once per process.
pub const RCU_ENV: &str = "SWAPFUZZ_RCU_SPINLOCKS";

/// The override from [`RCU_ENV`], if set (read on first use).
pub static RCU_OVERRIDE: Lazy<Option<bool>> = Lazy::new(|| {
    let v = std::env::var(RCU_ENV).ok()?;
    match v.to_ascii_lowercase().as_str() {
        "1" | "on" | "true" | "yes" => Some(true),
        "0" | "off" | "false" | "no" => Some(false),
        other => panic!("{RCU_ENV}={other}: expected on/off"),
    }
});

/// The engine settings of every fuzz execution (the defaults), built once.
static ENGINE: Lazy<EngineConfig> = Lazy::new(|| {
    quiet_panics();
    EngineConfig::default()
});

/// The model configuration a target runs: `variant`, and `rcu_spinlocks` unless
/// [`RCU_ENV`] overrides it; no event recording.
pub fn config(variant: Variant, rcu_spinlocks: bool) -> ModelConfig {
    crate::check::config::model(variant).rcu_spinlocks(RCU_OVERRIDE.unwrap_or(rcu_spinlocks))
}

/// Runs the input `data` once and returns the model's verdict (quietly: no panic output).
pub fn verdict(data: &[u8], variant: Variant, rcu_spinlocks: bool) -> Verdict {
    let d = decode(data);
    run_program(
        &d.program,
        config(variant, rcu_spinlocks),
        &d.schedule,
        &ENGINE,
    )
    .0
}

/// Runs `data`: `Err` with the bug's title and its triage signature on a kernel bug (the
/// signature is what `swapfuzz triage` groups by, and what `swapfuzz minimize` keeps), and with
/// `swapfuzz internal error: …` when swapfuzz itself failed (never a kernel bug).
pub fn check(data: &[u8], variant: Variant, rcu_spinlocks: bool) -> Result<(), String> {
    match verdict(data, variant, rcu_spinlocks) {
        Verdict::Clean => Ok(()),
        Verdict::Bug(bug, _) => Err(format!(
            "{}\nswapfuzz signature: {}",
            crate::triage::report::title(&bug),
            crate::triage::report::signature(&bug)
        )),
        Verdict::Error(msg) => Err(format!("swapfuzz internal error: {msg}")),
    }
}

/// The fuzz-target body: [`check`], and on a bug its message on stderr and `abort()`, which
/// libFuzzer records as a crash ("deadly signal") and saves the input. Not a panic: shuttle's
/// panic hook, installed for the whole process, would add lines about a shuttle task to every
/// crash log although the panic is outside any shuttle execution.
pub fn fuzz_one(data: &[u8], variant: Variant, rcu_spinlocks: bool) {
    if let Err(msg) = check(data, variant, rcu_spinlocks) {
        eprintln!("==swapfuzz== {msg}");
        std::process::abort();
    }
}

/// Defines a libFuzzer target body over [`fuzz_one`] for `variant` and `rcu_spinlocks`, plus, with
/// the fuzz crate's `asan-fibers` feature, ASan's default options (`detect_stack_use_after_return=0`:
/// shuttle's coroutine stacks; docs/continuous-fuzzing.md#files). Use in a `#![no_main]` target
/// that depends on `libfuzzer-sys`: `swapfuzz::swapfuzz_target!(Buggy, true);`.
#[macro_export]
macro_rules! swapfuzz_target {
    ($variant:ident, $rcu_spinlocks:expr) => {
        #[cfg(feature = "asan-fibers")]
        #[unsafe(no_mangle)]
        pub extern "C" fn __asan_default_options() -> *const std::ffi::c_char {
            c"detect_stack_use_after_return=0".as_ptr()
        }

        libfuzzer_sys::fuzz_target!(|data: &[u8]| {
            $crate::fuzz::oracle::fuzz_one(data, $crate::model::Variant::$variant, $rcu_spinlocks);
        });
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::bytes::encode;
    use crate::program::seeds;
    use crate::program::text::normalize;

    #[test]
    fn check_gives_the_title_and_signature() {
        let p = seeds::shmem_truncate();
        // Empty schedule: CPU1's swapoff runs first, no race.
        check(&encode(&p, &[]), Variant::Buggy, true).unwrap();
        // Some single-preemption schedule that races (found by scanning positions).
        let racy = (0..160)
            .map(|at| {
                let mut s = vec![0xFF; 200];
                s[1] = 0;
                s[at] = 0;
                encode(&p, &s)
            })
            .find(|d| verdict(d, Variant::Buggy, true).bug().is_some())
            .expect("a racing schedule");
        let msg = check(&racy, Variant::Buggy, true).unwrap_err();
        assert!(
            msg.contains("free_swap_and_cache") || msg.starts_with("BUG:"),
            "{msg}"
        );
        assert!(msg.contains("\nswapfuzz signature: "), "{msg}");
        check(&racy, Variant::Fixed, true).unwrap();
    }

    /// The canonical form runs exactly as the original: same decisions, same verdict.
    #[test]
    fn normalization_keeps_behaviour() {
        crate::engine::quiet_panics();
        let mut st = 0x5eed_u64;
        let engine = EngineConfig::default();
        let mut compared = 0;
        while compared < 150 {
            let d = decode(&crate::program::bytes::random_input(&mut st));
            let canonical = normalize(&d.program);
            if canonical == d.program {
                continue;
            }
            compared += 1;
            let variant = [Variant::Buggy, Variant::Fixed][compared % 2];
            let cfg = ModelConfig {
                variant,
                rcu_spinlocks: compared % 3 != 0,
                preemptible: true,
                record: true,
                all_points: false,
            };
            let (v1, e1) = run_program(&d.program, cfg, &d.schedule, &engine);
            let (v2, e2) = run_program(&canonical, cfg, &d.schedule, &engine);
            assert_eq!(v1, v2, "{}", d.program);
            assert_eq!(e1.decisions, e2.decisions, "{}", d.program);
            assert_eq!(e1.steps, e2.steps);
        }
    }
}
