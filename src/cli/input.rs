//! The `--as scenario|bytes` option and the loading of a command's program; the decision of
//! what a file is lives in [`crate::program::file`].

use std::sync::OnceLock;

use clap::ValueEnum;

use crate::program::file::{self, As, Input};

/// `--as`: how to read an input file.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum AsArg {
    /// A scenario (text), whatever the file's name or contents.
    Scenario,
    /// Raw bytes in the fuzz input format (a libFuzzer artifact), whatever the file's name or
    /// contents.
    Bytes,
}

/// The `--as` of this process (a global option, set once by [`set_as`]).
static HOW: OnceLock<As> = OnceLock::new();

/// Records the `--as` option for [`load`] and [`how`].
pub fn set_as(a: Option<AsArg>) {
    let how = match a {
        None => As::Auto,
        Some(AsArg::Scenario) => As::Scenario,
        Some(AsArg::Bytes) => As::Bytes,
    };
    let _ = HOW.set(how);
}

/// How input files are read in this process.
pub fn how() -> As {
    HOW.get().copied().unwrap_or_default()
}

/// Loads `arg`, a file or a built-in scenario name, as `--as` says.
pub fn load(arg: &str) -> Result<Input, String> {
    file::load(arg, how())
}
