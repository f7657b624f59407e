//! `swapfuzz bench`: prints throughput and time-to-bug figures, hunt beside shuttle's own
//! schedulers, all measured in this one run on one core.

use std::time::Duration;

use super::EXIT_CLEAN;
use crate::fuzz::bench::{
    RssSample, Strategy, Target, ToBug, fuzzer_throughput, rss_kib, rss_run, runtime_floor,
    search_to_bug, throughput,
};

/// Arguments of `swapfuzz bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Seeds per strategy (the median is over them).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
    /// The first seed (searches run seeds `first-seed` to `first-seed + seeds - 1`: another
    /// range than the default's to tune on seeds the reported figures do not use).
    #[arg(long, default_value_t = 1)]
    first_seed: u64,
    /// Time budget per search, in seconds (a search that hits it counts as not found).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    budget: u64,
    /// Executions for the throughput figure (0: skip it).
    #[arg(long, default_value_t = 20_000)]
    executions: usize,
    /// Only these strategies (comma-separated: hunt, hunt-classic, random, pct2, pct3).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "hunt,hunt-classic,random,pct2,pct3"
    )]
    strategies: Vec<String>,
    /// Instead of the comparison: run hunt on the Fixed variant for this many executions and
    /// print the resident set size (VmRSS) every --rss-every executions (flat memory check).
    #[arg(long, value_name = "EXECUTIONS", value_parser = clap::value_parser!(u64).range(1..))]
    rss: Option<u64>,
    /// Instead of the swap comparison: the generic suite of classic concurrency bugs
    /// (`swapfuzz::suite`), executions to the first bug per search, --seeds seeds each.
    #[arg(long)]
    suite: bool,
    /// With --suite: only these bugs (comma-separated names; default all).
    #[arg(long, value_delimiter = ',')]
    bugs: Vec<String>,
    /// With --suite: only these searches (comma-separated: fuzzer, pct2, pct3, random, bytes).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "fuzzer,pct2,pct3,random,bytes"
    )]
    contenders: Vec<String>,
    /// Executions per search before it counts as not found (--suite: default 100,000; the swap
    /// comparison: no limit but --budget).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_executions: Option<u64>,
    /// Besides the seed race, a row for each of these patches of `swapfuzz patches` (a
    /// catalogue race: `revert-<commit>`), where any bug counts (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "PATCH")]
    patches: Vec<String>,
    /// Without the seed race's row (only the --patches rows).
    #[arg(long)]
    no_seed_race: bool,
    /// With --suite: steps of thread-local work each thread does before and after its shared
    /// accesses (`swapfuzz::suite::shared::PAD`).
    #[arg(long, default_value_t = 8)]
    pad: usize,
    /// Executions between RSS readings of --rss.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    rss_every: u64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `swapfuzz bench --rss N`: RSS after every `--rss-every` executions of hunt.
fn rss(executions: u64, every: u64) -> Result<u8, String> {
    let Some(start) = rss_kib() else {
        return Err("--rss needs /proc/self/status (Linux)".into());
    };
    println!(
        "hunt on the Fixed variant, seed 1, {executions} executions; VmRSS at start {start} KiB"
    );
    println!(
        "{:>12} {:>10} {:>9} {:>10}   KiB per million executions since the first reading",
        "executions", "VmRSS KiB", "seconds", "exec/s"
    );
    let mut first: Option<RssSample> = None;
    rss_run(1, executions, every, &mut |s: RssSample| {
        let secs = s.elapsed.as_secs_f64().max(1e-9);
        let slope = match first {
            _ if s.finished => "(hunt returned, its state freed)".into(),
            Some(f) if s.executions > f.executions => format!(
                "{:+.1}",
                (s.rss_kib as f64 - f.rss_kib as f64) * 1e6 / (s.executions - f.executions) as f64
            ),
            _ => String::new(),
        };
        println!(
            "{:>12} {:>10} {:>9.1} {:>10.0}   {slope}",
            s.executions,
            s.rss_kib,
            secs,
            s.executions as f64 / secs
        );
        first.get_or_insert(s);
    });
    Ok(EXIT_CLEAN)
}

/// `swapfuzz bench --suite`: the generic suite's table.
fn suite(a: &BenchArgs) -> Result<u8, String> {
    use crate::suite::bench::{Contender, Row, geomean};
    use crate::suite::{BUGS, Bug};
    crate::suite::shared::PAD.store(a.pad, std::sync::atomic::Ordering::Relaxed);
    let max_executions = a.max_executions.unwrap_or(100_000);
    let mut contenders = Vec::new();
    for name in &a.contenders {
        let c = Contender::from_name(name).ok_or_else(|| {
            format!("unknown search {name:?}: expected fuzzer, pct2, pct3, random, bytes")
        })?;
        if !contenders.contains(&c) {
            contenders.push(c);
        }
    }
    let bugs: Vec<&Bug> = if a.bugs.is_empty() {
        BUGS.iter().collect()
    } else {
        a.bugs
            .iter()
            .map(|n| {
                BUGS.iter()
                    .find(|b| b.name == n)
                    .ok_or_else(|| format!("unknown bug {n:?} (see swapfuzz::suite::BUGS)"))
            })
            .collect::<Result<_, _>>()?
    };
    println!(
        "executions to the first bug: median over {} seeds (found/total), at most {} executions \
         per search ('+': some searches found nothing; their budget counts, a lower bound)",
        a.seeds, max_executions
    );
    print!("{:<22} {:>3}", "bug", "thr");
    for c in &contenders {
        print!(" {:>16}", c.name());
    }
    let ratio_to = |c: Contender| contenders.contains(&c).then_some(c);
    let base = ratio_to(Contender::Pct(3));
    let has_fuzzer = contenders.contains(&Contender::Fuzzer);
    if base.is_some() && has_fuzzer {
        print!(" {:>12}", "fuzzer/pct3");
    }
    let any_fuzzer = contenders.iter().any(|c| c.is_fuzzer());
    if any_fuzzer {
        print!("  finds by strategy (first fuzzer)");
    }
    println!();
    let (mut all, mut tuned, mut held) = (Vec::new(), Vec::new(), Vec::new());
    for bug in bugs {
        let test: std::sync::Arc<dyn Fn() + Send + Sync> = std::sync::Arc::new(bug.test);
        let name = format!("{}{}", bug.name, if bug.held_out { " (h)" } else { "" });
        print!("{name:<22} {:>3}", bug.threads);
        let mut medians = std::collections::HashMap::new();
        let mut finders = Vec::new();
        for &c in &contenders {
            let row = Row::measure(&test, c, a.seeds, max_executions);
            let m = row.median();
            let plus = if row.found() < row.trials.len() {
                "+"
            } else {
                ""
            };
            print!(
                " {:>16}",
                format!("{m:.0}{plus} ({}/{})", row.found(), row.trials.len())
            );
            let _ = std::io::Write::flush(&mut std::io::stdout());
            medians.insert(c, m);
            if c.is_fuzzer() && finders.is_empty() {
                finders = row.finders();
            }
        }
        if let (Some(b), true) = (base, has_fuzzer) {
            let r = medians[&Contender::Fuzzer] / medians[&b];
            print!(" {r:>12.3}");
            all.push(r);
            if bug.held_out {
                held.push(r)
            } else {
                tuned.push(r)
            }
        }
        if any_fuzzer {
            let f: Vec<String> = finders.iter().map(|(a, n)| format!("{a}:{n}")).collect();
            print!("  {}", f.join(" "));
        }
        println!();
    }
    if !all.is_empty() {
        println!(
            "\ngeometric mean of fuzzer/pct3 (ratio of medians): {:.3} over {} bugs; {:.3} over \
             the {} tuned on, {:.3} over the {} held out (h)",
            geomean(&all),
            all.len(),
            geomean(&tuned),
            tuned.len(),
            geomean(&held),
            held.len()
        );
    }
    Ok(EXIT_CLEAN)
}

/// Runs `swapfuzz bench`.
pub fn run(a: &BenchArgs) -> Result<u8, String> {
    if let Some(n) = a.rss {
        return rss(n, a.rss_every);
    }
    if a.suite {
        return suite(a);
    }
    let mut strategies = Vec::new();
    for s in &a.strategies {
        let strategy = match s.as_str() {
            "hunt" => Strategy::Hunt,
            "hunt-classic" => Strategy::HuntClassic,
            "random" => Strategy::Random,
            "pct2" => Strategy::Pct(2),
            "pct3" => Strategy::Pct(3),
            other => {
                return Err(format!(
                    "unknown strategy {other:?}: expected hunt, hunt-classic, random, pct2, pct3"
                ));
            }
        };
        // Each strategy named runs once, in the order first named.
        if !strategies.contains(&strategy) {
            strategies.push(strategy);
        }
    }
    if a.executions > 0 {
        let (eps, steps) = throughput(a.executions, 128);
        println!(
            "throughput (per CPU second of this process): {eps:.0} executions/s of a 3-CPU x 10-operation program ({steps} scheduling points each), one shuttle runner"
        );
        // The fuzzer's random walk never runs out of bytes: compare it with a batch whose
        // random bytes cover every decision.
        let (long, _) = throughput(a.executions, 4096);
        use crate::engine::{Arm, FeatureSource};
        let random = fuzzer_throughput(a.executions as u64, &[Arm::Random], FeatureSource::Auto);
        println!(
            "            {long:.0}/s with 4096 random bytes each (every decision random); the engine's \
             fuzzer with only its random walk (the same schedules): {random:.0}/s (ratio {:.2})",
            random / long
        );
        let switches =
            fuzzer_throughput(a.executions as u64, &[Arm::Random], FeatureSource::Switches);
        println!(
            "            the same without access annotations (switch features only): \
             {switches:.0}/s (ratio {:.2})",
            switches / long
        );
        let all = fuzzer_throughput(a.executions as u64, &[], FeatureSource::Auto);
        println!(
            "            the fuzzer with every strategy: {all:.0}/s (its schedules differ: fewer \
             switches under PCT and sparse walks)"
        );
        // Shuttle's and the engine's own cost of as many points, with no model: the ceiling
        // for this program in this runner, whatever the model does.
        let three = runtime_floor(a.executions, steps, 3, 128);
        let one = runtime_floor(a.executions, steps, 1, 128);
        println!(
            "            the same runner with no model, {steps} points that do nothing: \
             {three:.0}/s in 3 tasks, {one:.0}/s in one task (every point has one runnable \
             task); the program above runs at {:.2} and {:.2} of them",
            eps / three,
            eps / one
        );
    }
    let mut targets = Vec::new();
    if !a.no_seed_race {
        targets.push((
            "the first shmem race (Buggy, spinlocks are RCU readers)".to_owned(),
            Target::default(),
        ));
    }
    for name in &a.patches {
        let patch = crate::model::patches::Patch::by_name(name)
            .ok_or_else(|| format!("no such patch {name:?} (swapfuzz patches lists them)"))?;
        let model = crate::check::config::model(crate::model::PatchSet::for_patch(patch));
        targets.push((
            format!("any bug with --patch {name}"),
            Target {
                model,
                shmem_race_only: false,
            },
        ));
    }
    let limit = a
        .max_executions
        .map_or(String::new(), |n| format!(", at most {n} executions"));
    let mut hunt_ratios = Vec::new();
    for (what, target) in &targets {
        println!(
            "\ntime to {what}, {} seeds, budget {} s{limit} each:",
            a.seeds, a.budget
        );
        println!(
            "{:<34} {:>7} {:>14} {:>10}   per seed (executions)",
            "strategy", "found", "median execs", "median s"
        );
        // Each row as soon as it is measured (a long run shows its progress); the ratios to
        // PCT depth 3 after the rows.
        let mut medians = Vec::new();
        for &strategy in &strategies {
            let runs: Vec<ToBug> = (a.first_seed..a.first_seed + a.seeds)
                .map(|s| {
                    search_to_bug(
                        strategy,
                        target,
                        s,
                        Duration::from_secs(a.budget),
                        a.max_executions,
                    )
                })
                .collect();
            let found = runs.iter().filter(|r| r.found).count();
            // Not found counts as the whole budget (a lower bound).
            let execs = median(runs.iter().map(|r| r.executions as f64).collect());
            let secs = median(runs.iter().map(|r| r.elapsed.as_secs_f64()).collect());
            let per: Vec<String> = runs
                .iter()
                .map(|r| format!("{}{}", r.executions, if r.found { "" } else { "+" }))
                .collect();
            println!(
                "{:<34} {:>3}/{:<3} {:>14.0} {:>10.2}   {}",
                strategy.to_string(),
                found,
                a.seeds,
                execs,
                secs,
                per.join(" "),
            );
            let _ = std::io::Write::flush(&mut std::io::stdout());
            medians.push((strategy, execs));
        }
        if let Some(&(_, p)) = medians.iter().find(|(s, _)| *s == Strategy::Pct(3)) {
            let ratios: Vec<String> = medians
                .iter()
                .filter(|(s, _)| *s != Strategy::Pct(3))
                .map(|(s, m)| format!("{s} {:.2}", m / p))
                .collect();
            println!("median executions / PCT depth 3's: {}", ratios.join(", "));
            if let Some(&(_, h)) = medians.iter().find(|(s, _)| *s == Strategy::Hunt) {
                hunt_ratios.push(h / p);
            }
        }
    }
    if !hunt_ratios.is_empty() {
        println!(
            "\ngeometric mean of hunt/pct3 (ratio of medians) over {} rows: {:.2}",
            hunt_ratios.len(),
            crate::suite::bench::geomean(&hunt_ratios)
        );
    }
    println!("\n('+': not found within the budget; the median then is a lower bound)");
    Ok(EXIT_CLEAN)
}
