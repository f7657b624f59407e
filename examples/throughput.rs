//! The first and last lines of `swapfuzz bench --executions N`'s throughput block alone, for
//! instruction counts that do not depend on the machine's load:
//!
//! ```text
//! cargo build --release --example throughput
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/throughput 1000 first
//! ```
//!
//! Arguments: the executions per batch (default 20,000) and what to run: `first` (the model's
//! batch), `floor` (the runner with no model, in 3 tasks and in one) or `both` (the default).

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map_or(20_000, |s| s.parse().expect("executions"));
    let what = args.next().unwrap_or_else(|| "both".into());
    // The program's scheduling points, as bench counts them (one execution).
    let (_, steps) = swapfuzz::fuzz::bench::throughput(1, 128);
    if what != "floor" {
        let (eps, _) = swapfuzz::fuzz::bench::throughput(n, 128);
        println!("{eps:.0} executions/s ({steps} scheduling points each)");
    }
    if what != "first" {
        let three = swapfuzz::fuzz::bench::runtime_floor(n, steps, 3, 128);
        let one = swapfuzz::fuzz::bench::runtime_floor(n, steps, 1, 128);
        println!("no model: {three:.0}/s in 3 tasks, {one:.0}/s in one task");
    }
}
