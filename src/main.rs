//! `vigil`: compile and check Sigma rules.

mod cli;
mod commands;
mod output;
mod pipelines;
mod rule_files;

use clap::Parser;

// mimalloc: the front end allocates many small strings; this halves the time spent in malloc/free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

/// mimalloc (v3) options, numbered as in its `mimalloc.h` (`mi_option_e`).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// By default mimalloc commits its arenas eagerly (transparent huge pages) and returns freed memory to the OS only
/// after a delay: `vigil hunt` over the SigmaHQ Windows rules then peaks at about 150 MB. Committing on demand and
/// purging at once brings it to about 72 MB, and was no slower (`bench/peers.sh`; ARCHITECTURE.md, "Memory").
#[allow(unsafe_code)]
fn tune_allocator() {
    // SAFETY: option setters with no pointer arguments, called before any other thread exists.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = cli::Cli::parse();
    let code = match cli.command {
        cli::Command::Check(args) => commands::check::run(&args),
        cli::Command::Ir(args) => commands::ir::run(&args),
        cli::Command::List(args) => commands::list::run(&args),
        cli::Command::Hunt(args) => commands::hunt::run(&args),
        cli::Command::Convert(args) => commands::convert::run(&args),
        cli::Command::Test(args) => commands::test::run(&args),
    };
    ExitCode::from(code)
}
