//! `vigil fmt`: Sigma files rewritten in SigmaHQ's layout (`vigil_compiler::format`), checked, or shown as diffs.

use crate::cli::FmtArgs;
use crate::rule_files::{self, Found};
use std::io::Write;
use std::path::Path;
use vigil_compiler::compile::read_source;
use vigil_compiler::format::format_source;
use vigil_compiler::{Code, Diagnostic};

pub fn run(args: &FmtArgs) -> u8 {
    let (mut files, mut changed, mut failed, mut skipped) = (0, 0, 0, 0);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for found in rule_files::find(&args.paths) {
        let path = match found {
            Found::File(path) => path,
            Found::Missing { path, error } => {
                problem(&path, Diagnostic::error(Code::FileUnreadable, None, error));
                failed += 1;
                continue;
            }
        };
        files += 1;
        let text = match read_source(&path) {
            Ok(text) => text,
            Err(diagnostic) => {
                problem(&path, diagnostic);
                failed += 1;
                continue;
            }
        };
        let formatted = format_source(&text);
        for (document, reason) in &formatted.skipped {
            skipped += 1;
            let message = format!("document {document} left as written: {reason}");
            problem(&path, Diagnostic::warning(Code::FormatSkipped, None, message));
        }
        if formatted.text == text {
            continue;
        }
        changed += 1;
        let shown = path.display().to_string();
        let written = if args.check {
            writeln!(out, "{shown}")
        } else if args.diff {
            let diff = similar::TextDiff::from_lines(&text, &formatted.text)
                .unified_diff()
                .context_radius(3)
                .header(&format!("{shown} (as written)"), &format!("{shown} (formatted)"))
                .to_string();
            out.write_all(diff.as_bytes())
        } else {
            if let Err(e) = replace(&path, &formatted.text) {
                let message = format!("cannot write the formatted file: {e}");
                problem(&path, Diagnostic::error(Code::OutputUnwritable, None, message));
                failed += 1;
            }
            Ok(())
        };
        if let Err(e) = written {
            return crate::output::failed(&e, None);
        }
    }
    if let Err(e) = out.flush() {
        return crate::output::failed(&e, None);
    }
    let verb = if args.check || args.diff { "would be reformatted" } else { "reformatted" };
    eprintln!("{files} files: {changed} {verb}, {skipped} documents left as written, {failed} unreadable");
    if failed > 0 || ((args.check || args.diff) && changed > 0) {
        1
    } else {
        0
    }
}

fn problem(path: &Path, diagnostic: Diagnostic) {
    crate::report::problem_in(&path.display().to_string(), "", &diagnostic);
}

/// Replaces a file's content through a temporary file beside it, so an interrupted run never leaves half a rule.
pub(crate) fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut temporary = tempfile::NamedTempFile::new_in(folder)?;
    temporary.write_all(text.as_bytes())?;
    if let Ok(metadata) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(temporary.path(), metadata.permissions());
    }
    temporary.persist(path).map_err(|e| e.error)?;
    Ok(())
}
