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
    /// List what Vigil has built in.
    List(ListArgs),
}

/// Processing pipelines to apply to every rule, in priority order (pySigma's pipeline YAML).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PipelineArgs {
    /// A built-in pipeline (see `vigil list pipelines`) or a pipeline YAML file; repeatable. Pipelines run by
    /// priority, and in the order given when priorities are equal.
    #[arg(short = 'p', long = "pipeline", value_name = "NAME|FILE")]
    pub pipelines: Vec<String>,
    /// Let pipelines read placeholder values from files they name (`file_placeholders`).
    #[arg(long)]
    pub allow_external_sources: bool,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[arg(value_enum)]
    pub what: ListWhat,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListWhat {
    /// The built-in processing pipelines.
    Pipelines,
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
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Sigma files or directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct IrArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Sigma files or directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}
