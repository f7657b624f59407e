//! The `swapfuzz` command line. Exit status everywhere: 0 no bug, 1 bug found, 2 bad usage or
//! bad input (with a message saying what was wrong); `triage` also 3: a crash file that does not
//! reproduce.

mod bench;
mod check_patch;
mod hunt;
mod input;
mod kernel_repro;
mod minimize;
mod patches;
mod replay;
mod scenarios;
mod triage;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::model::patches::Patch;
use crate::model::{ModelConfig, PatchSet};

/// Exit status: no bug.
pub const EXIT_CLEAN: u8 = 0;
/// Exit status: a kernel bug was found.
pub const EXIT_BUG: u8 = 1;
/// Exit status: bad usage, bad input, or an internal error of swapfuzz.
pub const EXIT_ERROR: u8 = 2;
/// Exit status: a reproducer does not reproduce its bug: a crash file in `triage`, or in
/// `replay` a scenario whose `expect:` bug neither its schedule nor any other within the search's
/// bound gives. A bug of swapfuzz or a changed model, never "clean".
pub const EXIT_NO_REPRO: u8 = 3;

/// Fuzz the Linux swap code's operations and thread schedules: find the
/// free_swap_and_cache()/swapoff() race, and check a patch against it.
#[derive(Parser, Debug)]
#[command(name = "swapfuzz", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Read input files as a scenario (text) or as raw fuzz bytes, instead of deciding from the
    /// file's name and contents (scenarios/README.md, "Input files").
    #[arg(long = "as", value_enum, global = true, value_name = "KIND")]
    read_as: Option<input::AsArg>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Search programs and schedules until a bug shows up (stand-alone, no libFuzzer needed).
    Hunt(hunt::HuntArgs),
    /// Run a reproducer (a libFuzzer crash file or a hunt output) and show what happens.
    Replay(replay::ReplayArgs),
    /// Shrink a reproducer to the fewest CPUs, operations and preemptions that keep its bug.
    Minimize(minimize::MinimizeArgs),
    /// Group a directory of crash files by bug signature.
    Triage(triage::TriageArgs),
    /// Measure throughput and time to the shmem race, beside shuttle's own schedulers.
    Bench(bench::BenchArgs),
    /// Explore every schedule with at most K preemptions: a bug, or a bounded proof of none.
    Verify(verify::VerifyArgs),
    /// List the built-in scenarios.
    Scenarios,
    /// Print a reproducer as a scenario file with its schedule.
    Show(scenarios::ShowArgs),
    /// List the patches swapfuzz knows (upstream fixes, examples, yours).
    Patches,
    /// Does this patch close the race? Replays the crashes, proves the scenarios at K=2, hunts.
    CheckPatch(check_patch::CheckPatchArgs),
    /// Turn a reproducer into a real-kernel test: C program, delay point, expected report.
    KernelRepro(kernel_repro::KernelReproArgs),
}

/// `--variant`: a kernel by its old name. Aliases of patch sets, kept so that every documented
/// command still runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VariantArg {
    /// v6.8 itself, before commit 82b1c07a0af6 (`_swap_info_get()`, no reference).
    Buggy,
    /// v6.8 with every upstream fix of `swapfuzz patches` (82b1c07a0af6: `get_swap_device()`
    /// ... `put_swap_device()`).
    Fixed,
    /// `--patch wrong-rcu`: a wrong fix, `rcu_read_lock()` after `__swap_entry_free()`.
    WrongRcu,
    /// `--patch wrong-si-lock`: a wrong fix, `spin_lock(&p->lock)` after `__swap_entry_free()`.
    WrongSiLock,
}

impl VariantArg {
    /// The kernel this name stands for.
    fn kernel(self) -> PatchSet {
        let patch = |name| {
            PatchSet::for_patch(crate::model::patches::Patch::by_name(name).expect("registered"))
        };
        match self {
            VariantArg::Buggy => PatchSet::base(),
            VariantArg::Fixed => PatchSet::fixed(),
            VariantArg::WrongRcu => patch("wrong-rcu"),
            VariantArg::WrongSiLock => patch("wrong-si-lock"),
        }
    }
}

/// `--patch NAME`: the name of a patch of the registry (`swapfuzz patches`).
fn parse_patch(name: &str) -> Result<&'static Patch, String> {
    Patch::by_name(name).ok_or_else(|| {
        let known: Vec<_> = crate::model::patches::REGISTRY
            .iter()
            .map(|p| p.name)
            .collect();
        format!(
            "no such patch (swapfuzz patches lists them: {})",
            known.join(", ")
        )
    })
}

/// On or off.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

/// Model switches shared by the subcommands.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArgs {
    /// The kernel under test by name: buggy (v6.8), fixed (v6.8 with every upstream fix of
    /// `swapfuzz patches`), wrong-rcu, wrong-si-lock (= `--patch` of that name). Default:
    /// buggy, or with `--patch` the fixed kernel less the fixes the patches replace.
    #[arg(long, value_enum)]
    variant: Option<VariantArg>,
    /// Apply this patch of `swapfuzz patches` (repeatable). Alone, on the fixed kernel less the
    /// upstream fixes of the functions it replaces; with `--variant`, on that kernel.
    #[arg(long = "patch", value_name = "NAME", value_parser = parse_patch)]
    patches: Vec<&'static Patch>,
    /// Whether a held spinlock is an RCU read-side section (on: the real kernel; off: the
    /// world the thread's first two diagrams assume).
    #[arg(long, value_enum, default_value = "on")]
    rcu_spinlocks: Switch,
    /// Preemptible kernel (on: CONFIG_PREEMPT / PREEMPT_DYNAMIC, preemptible RCU; off:
    /// PREEMPT_NONE / VOLUNTARY *without* CONFIG_PREEMPT_COUNT, where kernel code is an RCU
    /// reader until it sleeps). With PREEMPT_COUNT (DEBUG_ATOMIC_SLEEP, PROVE_LOCKING, ...) the
    /// tick ends a grace period in lock-free kernel code, as under `on`: use `on` there (a real
    /// 6.1 kernel gave scenario (c)'s bug as `on` predicts, docs/real-kernel.md).
    #[arg(long, value_enum, default_value = "on")]
    preempt: Switch,
}

impl ModelArgs {
    /// The kernel these flags select: `--variant`'s, plus each `--patch`; an error when two
    /// patches replace the same function.
    pub fn kernel(&self) -> Result<PatchSet, String> {
        let mut k = match (self.variant, self.patches.first()) {
            (Some(v), _) => v.kernel(),
            (None, Some(first)) => PatchSet::for_patch(first),
            (None, None) => PatchSet::base(),
        };
        for p in &self.patches {
            k = k.with(p.name)?;
        }
        Ok(k)
    }

    /// The model configuration these flags select.
    pub fn config(&self, record: bool) -> Result<ModelConfig, String> {
        Ok(crate::check::config::model(self.kernel()?)
            .rcu_spinlocks(matches!(self.rcu_spinlocks, Switch::On))
            .preemptible(matches!(self.preempt, Switch::On))
            .record(record))
    }

    /// These switches on the fixed kernel.
    pub fn fixed(&self) -> ModelArgs {
        ModelArgs {
            variant: Some(VariantArg::Fixed),
            patches: Vec::new(),
            ..self.clone()
        }
    }

    /// `--variant X [--patch P ...] --rcu-spinlocks Y [--preempt off]`: the flags as given
    /// (`--variant buggy` for none), to print in "reproduce with" lines.
    pub fn flags(&self) -> String {
        let on = |b: bool| if b { "on" } else { "off" };
        let mut f = Vec::new();
        if let Some(v) = self
            .variant
            .or(self.patches.is_empty().then_some(VariantArg::Buggy))
        {
            f.push(format!(
                "--variant {}",
                v.to_possible_value().expect("named").get_name()
            ));
        }
        f.extend(self.patches.iter().map(|p| format!("--patch {}", p.name)));
        f.push(format!(
            "--rcu-spinlocks {}",
            on(matches!(self.rcu_spinlocks, Switch::On))
        ));
        if matches!(self.preempt, Switch::Off) {
            f.push("--preempt off".into());
        }
        f.join(" ")
    }
}

/// `--width`, on every command that prints an interleaving.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct LayoutArgs {
    /// Draw the interleaving in at most this many columns (75: a kernel commit message). The
    /// wide layout when it fits, else one space a call level, wrapped notes and fatal line, and
    /// the deepest calls elided as `...` if a column needs it; a function name is never cut.
    #[arg(long, default_value_t = crate::triage::diagram::COMMIT_WIDTH as u64,
          value_parser = clap::value_parser!(u64).range(crate::triage::diagram::MIN_WIDTH as u64..=10_000))]
    width: u64,
}

impl LayoutArgs {
    /// The diagram width.
    pub fn width(&self) -> usize {
        self.width as usize
    }
}

/// Parses the arguments and runs the subcommand; returns the process exit status.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_CLEAN
            });
        }
    };
    crate::engine::silence_shuttle();
    input::set_as(cli.read_as);
    let r = match cli.command {
        Command::Hunt(a) => hunt::run(&a),
        Command::Replay(a) => replay::run(&a),
        Command::Minimize(a) => minimize::run(&a),
        Command::Triage(a) => triage::run(&a),
        Command::Bench(a) => bench::run(&a),
        Command::Verify(a) => verify::run(&a),
        Command::Scenarios => scenarios::list(),
        Command::Show(a) => scenarios::show(&a),
        Command::Patches => patches::list(),
        Command::CheckPatch(a) => check_patch::run(&a),
        Command::KernelRepro(a) => kernel_repro::run(&a),
    };
    match r {
        Ok(code) => ExitCode::from(code),
        Err(msg) => {
            eprintln!("swapfuzz: error: {msg}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
