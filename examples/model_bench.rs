//! Executions per second of the model on a 3-CPU program of ten operations each (release mode,
//! one core): `cargo run --release --example model_bench`.
use swapfuzz::engine::*;
use swapfuzz::model::harness::execute;
use swapfuzz::model::*;

fn program() -> Program {
    use Op::*;
    let setup = vec![
        Swapon,
        Mmap {
            pages: 3,
            huge: false,
        },
        Mmap {
            pages: 0,
            huge: true,
        },
        ShmemWrite { file: 0, index: 0 },
        ShmemWrite { file: 0, index: 1 },
        SwapOut { mm: 0, pte: 0 },
        SwapOut { mm: 1, pte: 0 },
        ShmemWritepage { file: 0, index: 0 },
    ];
    let cpu0 = vec![
        Fork { mm: 0 },
        SwapOut { mm: 0, pte: 1 },
        SwapIn {
            mm: 0,
            pte: 0,
            write: false,
        },
        Zap { mm: 2, pte: 0 },
        ShmemWritepage { file: 0, index: 1 },
        Reclaim { dev: 0, offset: 0 },
        SwapIn {
            mm: 1,
            pte: 1,
            write: true,
        },
        Exit { mm: 0 },
        ShmemWrite { file: 1, index: 2 },
        ShmemTruncate { file: 1 },
    ];
    let cpu1 = vec![
        SwapOut { mm: 0, pte: 2 },
        ShmemTruncate { file: 0 },
        Zap { mm: 0, pte: 3 },
        Reclaim { dev: 0, offset: 1 },
        Fork { mm: 1 },
        SwapIn {
            mm: 0,
            pte: 1,
            write: false,
        },
        Exit { mm: 1 },
        Mmap {
            pages: 1,
            huge: false,
        },
        SwapOut { mm: 3, pte: 0 },
        Exit { mm: 2 },
    ];
    let cpu2 = vec![
        Reclaim { dev: 0, offset: 2 },
        SwapIn {
            mm: 0,
            pte: 2,
            write: true,
        },
        Zap { mm: 1, pte: 1 },
        ShmemWrite { file: 1, index: 0 },
        ShmemWritepage { file: 1, index: 0 },
        Swapoff { dev: 0 },
        Swapon,
        SwapOut { mm: 0, pte: 3 },
        Reclaim { dev: 0, offset: 0 },
        Swapoff { dev: 0 },
    ];
    Program {
        setup,
        cpus: vec![cpu0, cpu1, cpu2],
    }
}

fn main() {
    quiet_panics();
    let n: usize = std::env::args().nth(1).map_or(5000, |s| s.parse().unwrap());
    let cfg = ModelConfig {
        variant: Variant::Fixed,
        rcu_spinlocks: true,
        record: false,
    };
    let p = program();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut bytes = |len: usize| -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect()
    };
    let inputs: Vec<(Program, Vec<u8>)> = (0..n).map(|_| (p.clone(), bytes(128))).collect();
    let steps = {
        let p2 = p.clone();
        run_once(&inputs[0].1, &EngineConfig::default(), move || {
            execute(&p2, cfg)
        })
        .steps
    };
    let t = std::time::Instant::now();
    let r = run_batch(
        inputs.clone().into_iter(),
        &EngineConfig::default(),
        move |p: &Program| execute(p, cfg),
    );
    let batch = t.elapsed();
    let t = std::time::Instant::now();
    for (p, s) in inputs.iter().take(n / 5) {
        let p2 = p.clone();
        let _ = run_once(s, &EngineConfig::default(), move || execute(&p2, cfg));
    }
    let once = t.elapsed() * 5;
    println!(
        "3 CPUs x 10 ops, {} scheduling points (first run), {n} executions",
        steps
    );
    println!(
        "run_batch: {} executions, {:.0} exec/s (failure: {:?})",
        r.executions,
        r.executions as f64 / batch.as_secs_f64(),
        r.failure.map(|f| f.index)
    );
    println!("run_once:  {:.0} exec/s", n as f64 / once.as_secs_f64());
}
