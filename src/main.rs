//! `vigil`: compile and check Sigma rules.

mod cli;
mod commands;
mod navigator;
mod output;
mod report;
mod rule_cache;
mod rule_files;

use clap::Parser;

// mimalloc: the front end allocates many small strings; this halves the time spent in malloc/free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

/// mimalloc (v3) options, numbered as in its `mimalloc.h` (`mi_option_e`).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// By default mimalloc commits its arenas eagerly in transparent huge pages: `vigil hunt` over the SigmaHQ Windows
/// rules then peaks at about 150 MB, and each 2 MB page it touches is zeroed whole (a fifth of a hunt's time went
/// to zeroing pages, over and over when memory was purged at once). With huge pages off for the process, arenas
/// committed on demand and mimalloc's usual 10 ms purge delay, two threads over any input peak near 90 MB and
/// run faster (`bench/peers.sh`; ARCHITECTURE.md, "Memory").
#[allow(unsafe_code)]
fn tune_allocator() {
    // SAFETY: option setters and prctl with no pointer arguments, called before any other thread exists.
    unsafe {
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10);
    }
}

/// Returns the memory freed since it was allocated to the allocator's common pool, on every thread of the rayon
/// pool and on this one. Rule loading allocates on the pool's threads and the rule set frees much of that from
/// others; mimalloc keeps such pages with the thread that allocated them until it allocates again, which the pool's
/// threads, idle during a hunt, never do (about 10 MB of peak RSS with two threads, `bench/corpus.sh`).
#[allow(unsafe_code)]
pub fn release_free_memory() {
    // SAFETY: `mi_collect` only walks the calling thread's own heap.
    rayon::broadcast(|_| unsafe { libmimalloc_sys::mi_collect(true) });
    unsafe { libmimalloc_sys::mi_collect(true) };
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = cli::Cli::parse();
    let code = match cli.command {
        cli::Command::Check(args) => commands::check::run(&args),
        cli::Command::Fmt(args) => commands::fmt::run(&args),
        cli::Command::Ir(args) => commands::ir::run(&args),
        cli::Command::Lsp(args) => commands::lsp::run(&args),
        cli::Command::List(args) => commands::list::run(&args),
        cli::Command::Hunt(args) => commands::hunt::run(&args),
        cli::Command::Explain(args) => commands::explain::run(&args),
        cli::Command::Coverage(args) => commands::coverage::run(&args),
        cli::Command::Convert(args) => commands::convert::run(&args),
        cli::Command::Test(args) => commands::test::run(&args),
    };
    ExitCode::from(code)
}
