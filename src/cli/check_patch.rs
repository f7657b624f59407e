//! `swapfuzz check-patch NAME`: does this patch close the race? One table, one verdict.
//!
//! Its proofs are `swapfuzz verify --reduction --cache-states`'s (see
//! [`patch_check`](crate::fuzz::patch_check)): each covers every schedule with at most K
//! preemptions up to the order of independent steps and states explored before, and its row
//! counts the schedules run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::verify::{EXIT_STOPPED, UP_TO_ORDER_AND_STATES as UP_TO, count, parse_seconds};
use super::{EXIT_BUG, EXIT_CLEAN, LayoutArgs, ModelArgs, Switch, VariantArg};
use crate::fuzz::patch_check::{Check, Crash, Outcome, PatchCheck, Row, Verdict};
use crate::model::patches::{Argued, Kind, Patch};
use crate::program::file::{As, load_file};
use crate::program::text;
use crate::triage::minimize::{MinimizeLimits, minimize_for_reading};
use crate::triage::report::{signature, title};

/// Arguments of `swapfuzz check-patch`.
#[derive(clap::Args, Debug)]
pub struct CheckPatchArgs {
    /// The patch to judge (a name of `swapfuzz patches`), on the fixed kernel less the upstream
    /// fixes of the functions it replaces; or `buggy` (v6.8 itself) or `fixed`.
    name: String,
    /// Another patch on the same kernel (repeatable).
    #[arg(long = "patch", value_name = "NAME", value_parser = super::parse_patch)]
    more: Vec<&'static Patch>,
    /// Spinlocks are RCU readers (on: the real kernel).
    #[arg(long, value_enum, default_value = "on")]
    rcu_spinlocks: Switch,
    /// A preemptible kernel (on) or PREEMPT_NONE (off).
    #[arg(long, value_enum, default_value = "on")]
    preempt: Switch,
    /// The whole budget in seconds: proofs first, then the hunt, then K+1 where time is left.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_seconds)]
    time: Duration,
    /// The hunt's share of the budget, in seconds.
    #[arg(long, value_name = "SECONDS", default_value = "15", value_parser = parse_hunt_seconds)]
    hunt_time: Duration,
    /// The hunt's seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Prove every relevant scenario clean with at most this many preemptions.
    #[arg(long, default_value_t = 2)]
    preemptions: usize,
    /// The crash reproducers to replay (every file; a missing directory is skipped).
    #[arg(long, value_name = "DIR", default_value = "corpus/crashes")]
    corpus: PathBuf,
    #[command(flatten)]
    layout: LayoutArgs,
}

fn parse_hunt_seconds(s: &str) -> Result<Duration, String> {
    if s.parse::<f64>() == Ok(0.0) {
        return Ok(Duration::ZERO);
    }
    parse_seconds(s)
}

impl CheckPatchArgs {
    /// The kernel as model flags.
    fn model(&self) -> Result<ModelArgs, String> {
        let (variant, mut patches) = match self.name.as_str() {
            "buggy" | "v6.8" => (Some(VariantArg::Buggy), Vec::new()),
            "fixed" => (Some(VariantArg::Fixed), Vec::new()),
            name => (None, vec![super::parse_patch(name)?]),
        };
        patches.extend(self.more.iter().copied());
        Ok(ModelArgs {
            variant,
            patches,
            rcu_spinlocks: self.rcu_spinlocks,
            preempt: self.preempt,
        })
    }
}

/// The crash reproducers of `dir`, sorted, each once: a file `X` or `X.bin` beside `X.scn` is
/// the libFuzzer copy of the same crash, and is left out.
fn crashes(dir: &Path) -> Result<Vec<Crash>, String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let scn = |p: &Path| p.extension().is_some_and(|e| e == "scn");
    let mut out = Vec::new();
    for f in &files {
        if !scn(f)
            && files
                .iter()
                .any(|g| scn(g) && g.file_stem() == f.file_stem())
        {
            continue;
        }
        let l = load_file(f, As::Auto)?;
        out.push(Crash {
            name: f.display().to_string(),
            program: l.program,
            schedule: l.schedule,
            steps: l.scenario.and_then(|s| s.steps),
        });
    }
    Ok(out)
}

fn row_text(r: &Row) -> String {
    let (what, amount) = match &r.check {
        Check::Replay { name } => (format!("replay {name}"), String::new()),
        Check::Verify {
            name, k, schedules, ..
        } => (
            format!("verify {name} K={k}"),
            format!("{} schedules run", count(*schedules)),
        ),
        Check::Hunt { executions } => (
            "hunt from an empty corpus".to_string(),
            format!("{} executions", count(*executions as usize)),
        ),
    };
    let result = match &r.outcome {
        Outcome::Clean => "clean".to_string(),
        Outcome::Bug(f) => format!("BUG {}", signature(&f.bug)),
        Outcome::Stopped if amount.starts_with("0 ") => "not started: no budget left".to_string(),
        Outcome::Stopped => "stopped by the budget".to_string(),
        Outcome::Partial => {
            "partial: clean so far, stopped by the budget (optional bound)".to_string()
        }
        Outcome::Skipped => "skipped (a bug is found, or no budget left)".to_string(),
        Outcome::Error(e) => format!("ERROR of swapfuzz: {e}"),
    };
    format!(
        "  {what:<56} {amount:>23} {:>6.1} s  {result}",
        r.elapsed.as_secs_f64()
    )
}

/// Runs `swapfuzz check-patch`.
pub fn run(a: &CheckPatchArgs) -> Result<u8, String> {
    let model = a.model()?;
    let cfg = model.config(false)?;
    println!(
        "swapfuzz check-patch {}: {} ({})",
        a.name,
        cfg.patches.name(),
        model.flags()
    );
    for p in cfg.patches.patches() {
        let argued = match p.kind {
            Kind::Example(Argued::Closes) => " [example; argued: closes]",
            Kind::Example(Argued::DoesNotClose { .. }) => " [example; argued: does not close]",
            Kind::Revert(_) => " [revert of a fix in v6.8; argued: reopens its race]",
            Kind::Upstream | Kind::Proposed => "",
        };
        println!("  {}: {}{argued}", p.name, p.subject);
    }
    println!();
    let mut check = PatchCheck::new(cfg);
    check.time = a.time;
    check.hunt_time = a.hunt_time.min(a.time);
    check.seed = a.seed;
    check.preemptions = a.preemptions;
    for (name, _, src) in text::builtin() {
        let s = text::parse(&src).map_err(|e| format!("built-in scenario {name}: {e}"))?;
        check = check.scenario(name, s.program);
    }
    for c in crashes(&a.corpus)? {
        check = check.crash(c);
    }
    let report = check.run_with(&mut |r| println!("{}", row_text(r)));
    // What the proofs' rows count, once any proof ran.
    if report
        .rows
        .iter()
        .any(|r| matches!(r.check, Check::Verify { schedules, .. } if schedules > 0))
    {
        println!(
            "  (each verify row covers every schedule with at most K preemptions up to {UP_TO},\n   \
             as swapfuzz verify --reduction --cache-states does, and counts the schedules run)"
        );
    }
    println!();
    match report.verdict() {
        Verdict::Closed => {
            println!(
                "CLOSED: no bug; every relevant scenario proven at K={} and every crash replays \
                 clean on {}.",
                a.preemptions,
                cfg.patches.name()
            );
            Ok(EXIT_CLEAN)
        }
        Verdict::NotProven => {
            println!(
                "NOT PROVEN: no bug found, but a proof at K={} did not finish (raise --time) or \
                 no scenario reaches the patched functions.",
                a.preemptions
            );
            Ok(EXIT_STOPPED)
        }
        Verdict::Error(e) => Err(format!(
            "internal error of swapfuzz (not a kernel bug): {e}"
        )),
        Verdict::NotClosed(f) => {
            println!("NOT CLOSED: {}", title(&f.bug));
            println!("\nThe reproducer, minimised:\n");
            let m = minimize_for_reading(&f.program, &f.schedule, cfg, MinimizeLimits::default())?;
            super::replay::show(&m.program, &m.schedule, &model, &a.layout)?;
            let mut s = crate::triage::reproduce::as_scenario(
                &m.program,
                &m.schedule,
                cfg,
                Some("check-patch"),
            );
            s.description = vec![format!(
                "Found by swapfuzz check-patch {} ({}).",
                a.name,
                model.flags()
            )];
            s.expect = Some(signature(&m.bug));
            println!(
                "\nAs a scenario file (save it as check-patch.scn; swapfuzz replay check-patch.scn {}):\n",
                model.flags()
            );
            print!("{}", text::print_scenario(&s));
            Ok(EXIT_BUG)
        }
    }
}
