//! Where a command writes its results: a file given with `-o`, or standard output, buffered either way.

use std::io::Write;
use std::path::PathBuf;
use vigil_compiler::{Code, Diagnostic};

/// The exit status of a command whose reader went away (`vigil ir | head -1`): that of a process killed by
/// SIGPIPE, which is what a shell reports for `cat` in the same place. Nothing is printed.
pub const CLOSED_PIPE: u8 = 141;

/// Ends a command whose output could not be written: quietly with [`CLOSED_PIPE`] when the reader went away,
/// otherwise (a full disk, a failing device) with the problem printed and status 2. `to`: the `-o` file, if any.
pub fn failed(error: &std::io::Error, to: Option<&std::path::Path>) -> u8 {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        return CLOSED_PIPE;
    }
    let problem = Diagnostic::error(Code::OutputUnwritable, None, format!("cannot write the output: {error}"));
    match to {
        Some(path) => crate::report::problem_in(&path.display().to_string(), "", &problem),
        None => crate::report::problem_in("standard output", "", &problem),
    }
    2
}

/// Writes `text` to standard output and flushes it; the status of [`failed`] if that fails.
pub fn print(text: &str) -> Result<(), u8> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| failed(&e, None))
}

/// Opens the output; on failure the problem is printed and `None` returned (the caller exits with 2).
pub fn open(path: &Option<PathBuf>) -> Option<Box<dyn Write>> {
    match path {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Some(Box::new(std::io::BufWriter::new(f))),
            Err(e) => {
                let problem = Diagnostic::error(Code::OutputUnwritable, None, format!("cannot create the output: {e}"));
                crate::report::problem_in(&path.display().to_string(), "", &problem);
                None
            }
        },
        None => Some(Box::new(std::io::BufWriter::new(std::io::stdout().lock()))),
    }
}
