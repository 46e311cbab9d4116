//! `vigil check`: compile every document, report every diagnostic, then one summary line.

use crate::cli::{CheckArgs, CheckFormat};
use crate::{report, rule_files};
use rayon::prelude::*;
use serde_json::json;
use std::io::Write;
use std::time::Instant;
use vigil_compiler::compile::SourceFile;
use vigil_compiler::render;

/// What checking one file produced: its output text and its counts.
#[derive(Default)]
struct FileReport {
    output: String,
    documents: usize,
    ok: usize,
    errors: usize,
    warnings: usize,
}

pub fn run(args: &CheckArgs) -> u8 {
    let started = Instant::now();
    let Some(settings) = report::settings(&args.pipeline, false) else { return 2 };
    let Some(compilation) = rule_files::compile_unlinked(&args.paths, &args.pipeline.filters, &settings) else {
        return 2;
    };
    let reports: Vec<FileReport> = compilation.files.par_iter().map(|f| check_one(f, args.format)).collect();

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut total = FileReport::default();
    for report in &reports {
        if let Err(e) = out.write_all(report.output.as_bytes()) {
            return crate::output::failed(&e, None);
        }
        total.documents += report.documents;
        total.ok += report.ok;
        total.errors += report.errors;
        total.warnings += report.warnings;
    }
    if let Err(e) = out.flush() {
        return crate::output::failed(&e, None);
    }
    let with_errors = total.documents - total.ok;
    eprintln!(
        "{} files, {} documents: {} ok, {} with errors; {} errors, {} warnings in {:.2}s",
        reports.len(),
        total.documents,
        total.ok,
        with_errors,
        total.errors,
        total.warnings,
        started.elapsed().as_secs_f64()
    );
    if with_errors > 0 {
        1
    } else {
        0
    }
}

/// A file's report. A file that cannot be read (or is not UTF-8) is one document with that error, in the text and
/// the JSON alike.
fn check_one(file: &SourceFile, format: CheckFormat) -> FileReport {
    let mut report = FileReport::default();
    for document in &file.documents {
        report.documents += 1;
        let errors = document.diagnostics.iter().filter(|d| d.is_error()).count();
        report.errors += errors;
        report.warnings += document.diagnostics.len() - errors;
        if errors == 0 {
            report.ok += 1;
        }
        match format {
            CheckFormat::Text => {
                for diagnostic in &document.diagnostics {
                    report.output.push_str(&render(diagnostic, &file.path, &file.text));
                }
            }
            CheckFormat::Json => {
                let diagnostics: Vec<_> = document.diagnostics.iter().map(|d| d.to_json()).collect();
                let line = json!({
                    "path": file.path,
                    "document": document.index,
                    "id": document.id,
                    "title": document.title,
                    "kind": document.kind.as_str(),
                    "ok": errors == 0,
                    "diagnostics": diagnostics,
                });
                report.output.push_str(&line.to_string());
                report.output.push('\n');
            }
        }
    }
    report
}
