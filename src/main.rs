//! `vigil`: compile and check Sigma rules.

mod cli;
mod commands;
mod pipelines;
mod rule_files;

use clap::Parser;

// mimalloc: the front end allocates many small strings; this halves the time spent in malloc/free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let code = match cli.command {
        cli::Command::Check(args) => commands::check::run(&args),
        cli::Command::Ir(args) => commands::ir::run(&args),
        cli::Command::List(args) => commands::list::run(&args),
        cli::Command::Hunt(args) => commands::hunt::run(&args),
    };
    ExitCode::from(code)
}
