//! The oracle of the libFuzzer targets (`fuzz/fuzz_targets/`): decode, run, and panic on a bug
//! *after* the run, in the target's own thread, where libFuzzer's panic hook aborts and saves
//! the input.
//!
//! Inside the run the engine keeps panics quiet ([`quiet_panics`]), so a kernel bug detected by
//! the model comes back as a [`Verdict`] instead of reaching libFuzzer's hook mid-execution.

use once_cell::sync::Lazy;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::check::run::{Verdict, execute, run_program};
use crate::engine::{
    Access, AccessLog, EngineConfig, FeatureSource, MAP_SIZE, quiet_panics, record, recording,
    run_with_features,
};
use crate::model::patches::{Argued, Kind, REGISTRY};
use crate::model::{ModelConfig, PatchSet};
use crate::program::bytes::decode;

use super::mutator::{MUTATOR_ENV, parse_mutator};

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

/// The model configuration a target runs: `patches`, and `rcu_spinlocks` unless
/// [`RCU_ENV`] overrides it; no event recording.
pub fn config(patches: PatchSet, rcu_spinlocks: bool) -> ModelConfig {
    crate::check::config::model(patches).rcu_spinlocks(RCU_OVERRIDE.unwrap_or(rcu_spinlocks))
}

/// Environment variable that chooses the interleaving counters libFuzzer sees: `coarse` (also
/// `1`; the [`Counters::Coarse`] features), `fine` (the search's own, [`Counters::Fine`]) or
/// `off`/`0` (code coverage only). Read once per process; unset means [`COUNTERS_DEFAULT`].
pub const COUNTERS_ENV: &str = "SWAPFUZZ_COUNTERS";

/// Which interleaving features a fuzz execution hands libFuzzer in [`EXTRA_COUNTERS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counters {
    /// None: libFuzzer sees code coverage only.
    Off,
    /// Cross-CPU communication by object kind ([`coarse_counters`]): for each kind of shared
    /// object (a lock, a `swap_map` element, an allocation's liveness, a PTE, ...) and access
    /// (read or write), how often a task accessed an object of that kind last written by
    /// another task. A few hundred counters; libFuzzer buckets each count (1, 2, 3, 4–7, ...).
    Coarse,
    /// The search's own features ([`crate::engine::run_with_features`]: reads-from and
    /// write-write pairs of individual events, tens of thousands of slots). In the one
    /// measurement of them (docs/continuous-fuzzing.md#interleaving-counters) they grew
    /// libFuzzer's corpus six-fold and slowed its input-length growth.
    Fine,
}

/// The counters of a fuzz binary run without [`COUNTERS_ENV`].
pub const COUNTERS_DEFAULT: Counters = Counters::Off;

/// The counters named by `value` (a [`COUNTERS_ENV`] value).
pub fn parse_counters(value: &str) -> Result<Counters, String> {
    match value.to_ascii_lowercase().as_str() {
        "0" | "off" | "no" | "false" => Ok(Counters::Off),
        "1" | "on" | "coarse" => Ok(Counters::Coarse),
        "fine" => Ok(Counters::Fine),
        other => Err(format!(
            "{COUNTERS_ENV}={other}: expected off, coarse or fine"
        )),
    }
}

/// The counters of this process: [`COUNTERS_ENV`] or [`COUNTERS_DEFAULT`] (the fuzz binary's
/// [`init`] refuses a bad value with exit 2 first; elsewhere it panics with [`parse_counters`]'s
/// message).
pub static COUNTERS: Lazy<Counters> = Lazy::new(|| match std::env::var(COUNTERS_ENV) {
    Ok(v) => parse_counters(&v).unwrap_or_else(|e| panic!("{e}")),
    Err(_) => COUNTERS_DEFAULT,
});

/// The interleaving features of each fuzz execution ([`Counters`]), one counter per slot, in
/// the section that libFuzzer on Linux reads as extra coverage counters
/// (`__libfuzzer_extra_counters`): `cargo fuzz run` and OSS-Fuzz then keep inputs that reach
/// new interleavings, not only new code. libFuzzer clears them before each input. Outside a
/// libFuzzer binary nothing reads them.
#[used]
#[cfg_attr(
    target_os = "linux",
    unsafe(link_section = "__libfuzzer_extra_counters")
)]
pub static EXTRA_COUNTERS: [AtomicU8; MAP_SIZE] = [const { AtomicU8::new(0) }; MAP_SIZE];

/// Adds `n` to the counter of `slot` (saturating at 255).
fn bump(slot: usize, n: u32) {
    let c = &EXTRA_COUNTERS[slot % MAP_SIZE];
    let v = u32::from(c.load(Ordering::Relaxed)) + n;
    c.store(v.min(255) as u8, Ordering::Relaxed);
}

/// The counter slot of an annotation object's kind and an access.
fn coarse_slot(kind: u64, access: Access) -> usize {
    let h = (kind << 1 | u64::from(access == Access::Write))
        .wrapping_add(0xC0A5_E000)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 40) as usize
}

thread_local! {
    /// Each object's last writing task in the execution [`coarse_counters`] reads.
    static LAST_WRITER: std::cell::RefCell<HashMap<u64, usize>> = Default::default();
}

/// The [`Counters::Coarse`] features of the execution in `log` (its access annotations):
/// every access to an object whose last write was another task's bumps the counter of
/// (the object's kind, read or write). The kind is the annotation's top byte
/// (`Touch::object()` in src/model/context.rs); accesses to objects nobody wrote, and a
/// task's accesses after its own writes, count nothing (they are the same in every
/// interleaving). Returns the (slot, count) pairs it bumped, for tests.
pub fn coarse_counters(log: &AccessLog) -> Vec<(usize, u32)> {
    LAST_WRITER.with_borrow_mut(|last| {
        last.clear();
        let mut hits: Vec<(usize, u32)> = Vec::new();
        for step in log.steps() {
            for (object, access) in step.accesses() {
                let before = match access {
                    Access::Write => last.insert(object, step.task),
                    Access::Read => last.get(&object).copied(),
                };
                if before.is_some_and(|w| w != step.task) {
                    let s = coarse_slot(object >> 56, access) % MAP_SIZE;
                    match hits.iter_mut().find(|(h, _)| *h == s) {
                        Some((_, n)) => *n += 1,
                        None => hits.push((s, 1)),
                    }
                }
            }
        }
        hits
    })
}

/// Runs the input `data` once and returns the model's verdict (quietly: no panic output),
/// bumping [`EXTRA_COUNTERS`] as [`COUNTERS`] says.
pub fn verdict(data: &[u8], patches: PatchSet, rcu_spinlocks: bool) -> Verdict {
    let d = decode(data);
    let cfg = config(patches, rcu_spinlocks);
    match *COUNTERS {
        Counters::Off => run_program(&d.program, cfg, &d.schedule, &ENGINE).0,
        Counters::Coarse => {
            let before = recording();
            record(true);
            let (v, _) = run_program(&d.program, cfg, &d.schedule, &ENGINE);
            record(before);
            for (s, n) in AccessLog::with(coarse_counters) {
                bump(s, n);
            }
            v
        }
        Counters::Fine => {
            let p = d.program;
            let (execution, slots) =
                run_with_features(&d.schedule, &ENGINE, FeatureSource::Auto, move || {
                    execute(&p, cfg)
                });
            for s in slots {
                bump(s as usize, 1);
            }
            Verdict::of(&execution)
        }
    }
}

/// Runs `data`: `Err` with the bug's title and its triage signature on a kernel bug (the
/// signature is what `swapfuzz triage` groups by, and what `swapfuzz minimize` keeps), and with
/// `swapfuzz internal error: …` when swapfuzz itself failed (never a kernel bug).
pub fn check(data: &[u8], patches: PatchSet, rcu_spinlocks: bool) -> Result<(), String> {
    match verdict(data, patches, rcu_spinlocks) {
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
pub fn fuzz_one(data: &[u8], patches: PatchSet, rcu_spinlocks: bool) {
    if let Err(msg) = check(data, patches, rcu_spinlocks) {
        eprintln!("==swapfuzz== {msg}");
        std::process::abort();
    }
}

/// One libFuzzer target: a kernel and the "spinlocks are RCU readers" switch, by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Its name: `buggy`, `fixed`, or a patch name, with `_no_rcu` when spinlocks are not RCU
    /// readers.
    pub name: String,
    /// The kernel.
    pub patches: PatchSet,
    /// Spinlocks are RCU readers.
    pub rcu_spinlocks: bool,
    /// Continuous fuzzing gets it: the kernel is expected to have no bug (the fixed kernel,
    /// a correct example, a proposed patch), so any crash is news. The others (v6.8 itself, the
    /// wrong examples) crash by design and are for local runs.
    pub ship: bool,
}

/// Every fuzz target, from the patch registry: `buggy` (v6.8), `fixed` (every upstream fix),
/// and one per other patch, on the kernel it is judged on ([`PatchSet::for_patch`]); each also
/// as `<name>_no_rcu`. The one fuzz binary (`fuzz/fuzz_targets/kernel.rs`) becomes any of them
/// by its file name or [`TARGET_ENV`].
pub fn targets() -> Vec<Target> {
    let mut kernels = vec![
        ("buggy".to_string(), PatchSet::base(), false),
        ("fixed".to_string(), PatchSet::fixed(), true),
    ];
    for p in REGISTRY.iter().filter(|p| p.kind != Kind::Upstream) {
        let ship = matches!(p.kind, Kind::Example(Argued::Closes) | Kind::Proposed);
        kernels.push((p.name.to_string(), PatchSet::for_patch(p), ship));
    }
    let mut v = Vec::new();
    for (name, patches, ship) in kernels {
        v.push(Target {
            name: name.clone(),
            patches,
            rcu_spinlocks: true,
            ship,
        });
        v.push(Target {
            name: format!("{name}_no_rcu"),
            patches,
            rcu_spinlocks: false,
            ship,
        });
    }
    v
}

/// Environment variable naming the target the fuzz binary runs (instead of its file name):
/// `SWAPFUZZ_TARGET=wrong-rcu cargo fuzz run kernel`.
pub const TARGET_ENV: &str = "SWAPFUZZ_TARGET";

/// The target the fuzz binary at `argv0` runs: [`TARGET_ENV`] if set, else the binary's file
/// name, which must be a [`targets`] name (build.sh installs one copy per name); the binary
/// built as `kernel` with no [`TARGET_ENV`] runs `fixed`.
pub fn target_for(argv0: &str) -> Result<Target, String> {
    let from_env = std::env::var(TARGET_ENV).ok();
    let file = std::path::Path::new(argv0)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match (&from_env, file.as_str()) {
        (Some(n), _) => n.as_str(),
        (None, "kernel") => "fixed",
        (None, f) => f,
    };
    targets()
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| {
            let names: Vec<String> = targets().into_iter().map(|t| t.name).collect();
            format!(
                "no fuzz target named '{name}' ({}): one of {}",
                if from_env.is_some() {
                    TARGET_ENV
                } else {
                    "the binary's file name"
                },
                names.join(", ")
            )
        })
}

/// The fuzz binary's start-up (libFuzzer's `LLVMFuzzerInitialize`): choose the target; with
/// `SWAPFUZZ_LIST_TARGETS=1` print every target as `name ship|local` and exit (build.sh reads
/// it). Exits 2 with a message on an unknown target or a bad [`COUNTERS_ENV`] or
/// [`MUTATOR_ENV`] value.
pub fn init(argv0: &str) -> Target {
    if std::env::var_os("SWAPFUZZ_LIST_TARGETS").is_some() {
        for t in targets() {
            println!("{} {}", t.name, if t.ship { "ship" } else { "local" });
        }
        std::process::exit(0);
    }
    let bad = [
        std::env::var(COUNTERS_ENV)
            .ok()
            .and_then(|v| parse_counters(&v).err()),
        std::env::var(MUTATOR_ENV)
            .ok()
            .and_then(|v| parse_mutator(&v).err()),
    ];
    if let Some(e) = bad.into_iter().flatten().next() {
        eprintln!("swapfuzz: {e}");
        std::process::exit(2);
    }
    match target_for(argv0) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("swapfuzz: {e}");
            std::process::exit(2);
        }
    }
}

/// Defines the libFuzzer target body: [`init`] picks the kernel once, then [`fuzz_one`] on every
/// input; the structure-aware mutator ([`crate::fuzz::mutator::mutate`], libFuzzer's
/// `LLVMFuzzerCustomMutator`, with libFuzzer's own byte mutator as its fallback and as the
/// whole of it under `SWAPFUZZ_MUTATOR=off`); plus, with the fuzz crate's `asan-fibers`
/// feature, ASan's default options
/// (`detect_stack_use_after_return=0`: shuttle's coroutine stacks;
/// docs/continuous-fuzzing.md#files). Use in a `#![no_main]` target that depends on
/// `libfuzzer-sys`: `swapfuzz::swapfuzz_target!();`.
#[macro_export]
macro_rules! swapfuzz_target {
    () => {
        #[cfg(feature = "asan-fibers")]
        #[unsafe(no_mangle)]
        pub extern "C" fn __asan_default_options() -> *const std::ffi::c_char {
            c"detect_stack_use_after_return=0".as_ptr()
        }

        static TARGET: std::sync::OnceLock<$crate::fuzz::oracle::Target> =
            std::sync::OnceLock::new();

        libfuzzer_sys::fuzz_target!(
            init: {
                let argv0 = std::env::args().next().unwrap_or_default();
                let _ = TARGET.set($crate::fuzz::oracle::init(&argv0));
            },
            |data: &[u8]| {
                let t = TARGET.get().expect("init ran");
                $crate::fuzz::oracle::fuzz_one(data, t.patches, t.rcu_spinlocks);
            }
        );

        libfuzzer_sys::fuzz_mutator!(
            |data: &mut [u8], size: usize, max_size: usize, seed: u32| {
                $crate::fuzz::mutator::mutate(
                    data,
                    size,
                    max_size,
                    seed,
                    libfuzzer_sys::fuzzer_mutate,
                )
            }
        );
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
        check(&encode(&p, &[]), PatchSet::base(), true).unwrap();
        // Some single-preemption schedule that races (found by scanning positions).
        let racy = (0..160)
            .map(|at| {
                let mut s = vec![0xFF; 200];
                s[1] = 0;
                s[at] = 0;
                encode(&p, &s)
            })
            .find(|d| verdict(d, PatchSet::base(), true).bug().is_some())
            .expect("a racing schedule");
        let msg = check(&racy, PatchSet::base(), true).unwrap_err();
        assert!(
            msg.contains("free_swap_and_cache") || msg.starts_with("BUG:"),
            "{msg}"
        );
        assert!(msg.contains("\nswapfuzz signature: "), "{msg}");
        check(&racy, PatchSet::fixed(), true).unwrap();
    }

    /// The coarse counters of an execution: cross-CPU communication by object kind, a few
    /// slots, and they differ between two interleavings of one program that run the same code.
    #[test]
    fn coarse_counters_see_cross_cpu_communication_by_object_kind() {
        crate::engine::quiet_panics();
        let p = seeds::shmem_truncate();
        let cfg = config(PatchSet::fixed(), true);
        let run = |schedule: &[u8]| {
            record(true);
            let _ = run_program(&p, cfg, schedule, &EngineConfig::default());
            record(false);
            let mut hits = AccessLog::with(coarse_counters);
            hits.sort();
            hits
        };
        let serial = run(&[]);
        assert!(
            !serial.is_empty(),
            "the set-up's writes are read by the CPUs"
        );
        let kinds: std::collections::BTreeSet<usize> = serial.iter().map(|h| h.0).collect();
        assert!(kinds.len() < 64, "{} slots: not coarse", kinds.len());
        // Some single preemption of CPU0 changes who reads whose writes.
        let preempted = (0..160).any(|at| {
            let mut s = vec![0xFF; 200];
            s[at] = 0;
            run(&s) != serial
        });
        assert!(preempted, "no interleaving changed the coarse counters");
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
            let patches = [PatchSet::base(), PatchSet::fixed()][compared % 2];
            let cfg = ModelConfig {
                patches,
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
