//! `swapfuzz kernel-repro FILE`: a minimised reproducer as a real-kernel test (a C program for
//! kernel/tests/sf.h, its delay point and the report to expect; `crate::kernel_repro`).

use std::path::PathBuf;

use super::{EXIT_CLEAN, ModelArgs, Switch, VariantArg};
use crate::kernel_repro::{KernelRepro, Target, analyse, emit};

/// Arguments of `swapfuzz kernel-repro`.
#[derive(clap::Args, Debug)]
pub struct KernelReproArgs {
    /// A reproducer: a scenario with its schedule (.scn) or a raw find (hunt's crash-*, a
    /// corpus/crashes/*.bin); see --as.
    file: String,
    /// The kernel: --variant buggy (swapfuzz.variant=buggy), fixed, or --patch
    /// revert-2799e77529c2 (swapfuzz.variant=revert-2799e77529c2); --preempt off stands for
    /// `scripts/kernel-check --preempt none`.
    #[command(flatten)]
    model: ModelArgs,
    /// Write the C program to DIR/NAME.c (default: print it on stdout).
    #[arg(short = 'o', long = "out-dir", value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// The test's name (sf.test=NAME, the file NAME.c); default: the scenario's name or the
    /// file's stem. Letters, digits, '-' and '_'.
    #[arg(long)]
    name: Option<String>,
}

/// The boot variant for the model flags, or why there is none.
fn boot_variant(m: &ModelArgs) -> Result<&'static str, String> {
    if matches!(m.rcu_spinlocks, Switch::Off) {
        return Err(
            "--rcu-spinlocks off has no kernel: a held spinlock is an RCU reader on \
                    every kernel kernel-check builds"
                .into(),
        );
    }
    let names: Vec<&str> = m.patches.iter().map(|p| p.name).collect();
    match (m.variant, names.as_slice()) {
        (None | Some(VariantArg::Buggy), []) => Ok("buggy"),
        (Some(VariantArg::Fixed), []) => Ok("fixed"),
        (None, ["revert-2799e77529c2"]) => Ok("revert-2799e77529c2"),
        _ => Err(format!(
            "no kernel boot variant for {}: the kernel patches have swapfuzz.variant=buggy \
             (--variant buggy), fixed (--variant fixed) and revert-2799e77529c2 (--patch \
             revert-2799e77529c2)",
            m.flags()
        )),
    }
}

/// A test name from a scenario name or file stem: what `sf.test=` and a file name can hold.
fn test_name(a: &KernelReproArgs, scenario: Option<&str>) -> Result<String, String> {
    let raw = match (&a.name, scenario) {
        (Some(n), _) => n.clone(),
        (None, Some(n)) => n.to_string(),
        (None, None) => std::path::Path::new(&a.file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if raw.is_empty() || !raw.chars().all(ok) || raw.len() > 60 {
        return Err(format!(
            "bad test name \"{raw}\": letters, digits, '-' and '_', at most 60 (--name NAME)"
        ));
    }
    Ok(raw)
}

/// What the command prints besides the C program.
fn summary(r: &KernelRepro, a: &KernelReproArgs) -> String {
    let mut s = format!("swapfuzz kernel-repro {} ({})\n", a.file, a.model.flags());
    match &r.victim {
        Some(v) => {
            s += &format!("preemption:    {}\n", v.position);
            s += &format!(
                "delay point:   P{} on {}: {}\n",
                v.point.n,
                r.kernels.join(", "),
                v.point.kernel
            );
            s += &format!(
                "victim:        cpu{} `{}` on CPU0; state at P{}: swap_map {:#04x}{}{}\n",
                v.cpu,
                crate::program::text::format_op(&v.op),
                v.point.n,
                v.map,
                v.count.map_or(String::new(), |c| format!(
                    ", __swap_entry_free() returns {c:#04x}"
                )),
                v.folio_pages.map_or(String::new(), |n| format!(
                    "; in the swap cache as one folio of {n} pages"
                ))
            );
            if r.huge {
                s += "swap device:   a loop device over a tmpfs file (asynchronous writes: the \
                      THP stays in the swap cache); in the 6.12 configuration only\n";
            }
        }
        None => s += "preemption:    none (the operations run one after another)\n",
    }
    s += &format!(
        "boot:          swapfuzz.variant={} sf.test={} sf.point={}\n",
        r.boot_variant,
        r.name,
        r.victim.as_ref().map_or(0, |v| v.point.n)
    );
    s += &format!(
        "model:         {}\nfixed kernel:  {}\n",
        r.expect.as_deref().unwrap_or("no bug"),
        r.expect_fixed.as_deref().unwrap_or("no bug")
    );
    if let Some(sig) = &r.expect {
        let mut f = sig.splitn(4, ':');
        let (class, func, obj) = (
            f.next().unwrap_or(""),
            f.next().unwrap_or(""),
            f.next().unwrap_or(""),
        );
        if let Some(id) = class.strip_prefix("invariant-") {
            s += &format!(
                "expect:        no console report to compare: {id} is a model invariant (a \
                 ghost check, docs/model.md#invariants), which the kernel does not check\n"
            );
        } else {
            s += &format!(
                "expect:        {class} in {func} (object {obj}) on the kernel's console\n"
            );
        }
    }
    s
}

/// Runs `swapfuzz kernel-repro`.
pub fn run(a: &KernelReproArgs) -> Result<u8, String> {
    let input = super::input::load(&a.file)?;
    let name = test_name(a, input.scenario.as_ref().and_then(|s| s.name.as_deref()))?;
    let target = Target {
        boot_variant: boot_variant(&a.model)?,
        cfg: a.model.config(false)?,
        fixed: a.model.fixed().config(false)?,
    };
    let r = analyse(&input, &name, target).map_err(|e| format!("{}: {e}", a.file))?;
    let mut cmd = format!("swapfuzz kernel-repro {}", a.file);
    let flags = a.model.flags();
    if flags != "--variant buggy --rcu-spinlocks on" {
        cmd += &format!(" {flags}");
    }
    let c = emit::c_source(&r, &cmd);
    match &a.out_dir {
        None => {
            eprint!("{}", summary(&r, a));
            print!("{c}");
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let path = dir.join(format!("{name}.c"));
            std::fs::write(&path, c)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            print!("{}", summary(&r, a));
            println!("wrote:         {}", path.display());
        }
    }
    Ok(EXIT_CLEAN)
}
