//! Command-line definitions. Each command validates its own arguments before doing any work.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Vigil compiles Sigma detection rules and checks them.
#[derive(Parser, Debug)]
#[command(name = "vigil", version, about, propagate_version = true, max_term_width = 110)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check Sigma files: report every problem in every document, with its code and location.
    ///
    /// Directories are searched recursively for .yml and .yaml files. Diagnostics go to stdout, the summary
    /// line to stderr, so `--format json` output pipes straight into jq.
    ///
    /// Exit status: 0 no errors (warnings allowed), 1 some document has an error, 2 usage or I/O error.
    Check(CheckArgs),
    /// Print the normalised IR of each rule (identifiers resolved, modifiers as operators).
    Ir(IrArgs),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Diagnostics for people: file:line:column, the source line and a caret.
    Text,
    /// One JSON object per document per line, for jq and CI.
    Json,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Sigma files or directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct IrArgs {
    /// Sigma files or directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}
