//! The `swapfuzz` command line. Exit status everywhere: 0 no bug, 1 bug found, 2 bad usage or
//! bad input (with a message saying what was wrong); `triage` also 3: a crash file that does not
//! reproduce.

mod bench;
mod hunt;
mod input;
mod minimize;
mod replay;
mod scenarios;
mod triage;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::model::{ModelConfig, Variant};

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
}

/// Which `free_swap_and_cache()` runs.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum VariantArg {
    /// Before commit 82b1c07a0af6 (`_swap_info_get()`, no reference).
    Buggy,
    /// Commit 82b1c07a0af6 (`get_swap_device()` ... `put_swap_device()`).
    Fixed,
    /// A wrong fix, for testing swapfuzz: `rcu_read_lock()` after `__swap_entry_free()`.
    WrongRcu,
    /// A wrong fix, for testing swapfuzz: `spin_lock(&p->lock)` after `__swap_entry_free()`.
    WrongSiLock,
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
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct ModelArgs {
    /// The free_swap_and_cache() under test.
    #[arg(long, value_enum, default_value = "buggy")]
    variant: VariantArg,
    /// Whether a held spinlock is an RCU read-side section (on: the real kernel; off: the
    /// world the thread's first two diagrams assume).
    #[arg(long, value_enum, default_value = "on")]
    rcu_spinlocks: Switch,
    /// Preemptible kernel (on: CONFIG_PREEMPT / PREEMPT_DYNAMIC, preemptible RCU; off:
    /// PREEMPT_NONE / VOLUNTARY, where kernel code is an RCU reader until it sleeps).
    #[arg(long, value_enum, default_value = "on")]
    preempt: Switch,
}

impl ModelArgs {
    /// The model configuration these flags select.
    pub fn config(&self, record: bool) -> ModelConfig {
        let variant = match self.variant {
            VariantArg::Buggy => Variant::Buggy,
            VariantArg::Fixed => Variant::Fixed,
            VariantArg::WrongRcu => Variant::WrongRcu,
            VariantArg::WrongSiLock => Variant::WrongSiLock,
        };
        crate::check::config::model(variant)
            .rcu_spinlocks(matches!(self.rcu_spinlocks, Switch::On))
            .preemptible(matches!(self.preempt, Switch::On))
            .record(record)
    }

    /// `--variant X --rcu-spinlocks Y`, to print in "reproduce with" lines.
    pub fn flags(&self) -> String {
        let c = self.config(false);
        let on = |b: bool| if b { "on" } else { "off" };
        let mut f = format!(
            "--variant {} --rcu-spinlocks {}",
            c.variant.name(),
            on(c.rcu_spinlocks)
        );
        if !c.preemptible {
            f.push_str(" --preempt off");
        }
        f
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
    };
    match r {
        Ok(code) => ExitCode::from(code),
        Err(msg) => {
            eprintln!("swapfuzz: error: {msg}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
