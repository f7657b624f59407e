//! The `swapfuzz` command (see `swapfuzz --help`).

fn main() -> std::process::ExitCode {
    swapfuzz::cli::run()
}
