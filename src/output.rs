//! Where a command writes its results: a file given with `-o`, or standard output, buffered either way.

use std::io::Write;
use std::path::PathBuf;
use vigil_compiler::{Code, Diagnostic};

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
