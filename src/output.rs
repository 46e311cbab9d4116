//! Where a command writes its results: a file given with `-o`, or standard output, buffered either way.

use std::io::Write;
use std::path::PathBuf;

/// Opens the output; on failure the problem is printed and `None` returned (the caller exits with 2).
pub fn open(path: &Option<PathBuf>) -> Option<Box<dyn Write>> {
    match path {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Some(Box::new(std::io::BufWriter::new(f))),
            Err(e) => {
                eprintln!("vigil: {}: {e}", path.display());
                None
            }
        },
        None => Some(Box::new(std::io::BufWriter::new(std::io::stdout().lock()))),
    }
}
