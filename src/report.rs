//! How every command prints problems: each a coded diagnostic, located in its file (the line and a caret under
//! the problem when there is one), on standard error; `--format json` outputs carry `Diagnostic::to_json`.

use crate::cli::PipelineArgs;
use vigil_compiler::compile::{Settings, SourceFile};
use vigil_compiler::pipeline::{spec_text, PipelineOptions};
use vigil_compiler::render;
use vigil_compiler::Diagnostic;

/// Prints one diagnostic of `file`.
pub fn problem(file: &SourceFile, diagnostic: &Diagnostic) {
    eprint!("{}", render(diagnostic, &file.path, &file.text_for_problems()));
}

/// Prints one diagnostic about `path`, whose text is `text` (empty when unknown).
pub fn problem_in(path: &str, text: &str, diagnostic: &Diagnostic) {
    eprint!("{}", render(diagnostic, path, text));
}

/// Prints every error of every document of `file` that did not compile; the number printed.
pub fn errors(file: &SourceFile) -> usize {
    let mut printed = 0;
    for document in &file.documents {
        for diagnostic in document.diagnostics.iter().filter(|d| d.is_error()) {
            problem(file, diagnostic);
            printed += 1;
        }
    }
    printed
}

/// The compile settings for the pipelines named on the command line (with log-source routing when `routing` is
/// set); on failure every problem is printed, located in its pipeline file, and `None` returned (a usage error).
pub fn settings(args: &PipelineArgs, routing: bool) -> Option<Settings> {
    let options = PipelineOptions { allow_external_sources: args.allow_external_sources };
    match Settings::resolve(&args.pipelines, routing, options) {
        Ok(settings) => Some(settings),
        Err(problems) => {
            for (spec, diagnostic) in problems {
                let text = diagnostic.pos.and_then(|_| spec_text(&spec)).unwrap_or_default();
                problem_in(&spec, &text, &diagnostic);
            }
            None
        }
    }
}

/// Prints a problem that concerns no file: `vigil: error[code]: message`.
pub fn general(diagnostic: &Diagnostic) {
    eprint!("{}", render(diagnostic, "vigil", ""));
}

/// Prints a usage error (options that do not go together) and gives the usage exit status, 2.
pub fn usage(message: impl Into<String>) -> u8 {
    general(&Diagnostic::error(vigil_compiler::Code::Usage, None, message));
    2
}
