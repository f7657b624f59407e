//! The `swapfuzz` command (see `swapfuzz --help`).

fn main() -> std::process::ExitCode {
    // As other Unix commands: output piped into a reader that stops early (`swapfuzz verify ...
    // | head`) ends the process quietly (SIGPIPE's default action) instead of a panic in
    // `println!`. Rust's runtime ignores SIGPIPE; swapfuzz writes to no pipe of a child. Files
    // are written atomically (a temporary file renamed), so no output is left half-written.
    // SAFETY: called first thing in `main`, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    swapfuzz::cli::run()
}
