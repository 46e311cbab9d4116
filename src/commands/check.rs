//! `vigil check`: load and lower every document, report every diagnostic, then one summary line.

use crate::cli::{CheckArgs, CheckFormat};
use crate::pipelines;
use crate::rule_files::{self, Found};
use rayon::prelude::*;
use serde_json::json;
use std::io::Write;
use std::time::Instant;
use vigil_compiler::diagnostic::render;
use vigil_compiler::pipeline::{self, PipelineSet};
use vigil_compiler::{load_str, lower, Content, Diagnostic, DocumentKind, LoadedDocument, Severity};

/// What checking one file produced: its output text and its counts.
#[derive(Default)]
struct FileReport {
    output: String,
    documents: usize,
    ok: usize,
    errors: usize,
    warnings: usize,
    io_error: bool,
}

pub fn run(args: &CheckArgs) -> u8 {
    let started = Instant::now();
    let Some(pipelines) = pipelines::resolve(&args.pipeline) else { return 2 };
    let found = rule_files::find(&args.paths);
    let reports: Vec<FileReport> = found.par_iter().map(|f| check_one(f, args.format, &pipelines)).collect();

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut total = FileReport::default();
    for report in &reports {
        if out.write_all(report.output.as_bytes()).is_err() {
            return 2; // stdout closed (e.g. piped into `head`)
        }
        total.documents += report.documents;
        total.ok += report.ok;
        total.errors += report.errors;
        total.warnings += report.warnings;
        total.io_error |= report.io_error;
    }
    let _ = out.flush();
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
    if total.io_error {
        2
    } else if with_errors > 0 {
        1
    } else {
        0
    }
}

fn check_one(found: &Found, format: CheckFormat, pipelines: &PipelineSet) -> FileReport {
    let Some((shown, text)) = rule_files::open(found) else {
        return FileReport { io_error: true, ..FileReport::default() };
    };
    let mut report = FileReport::default();
    for mut document in load_str(&text) {
        if document.kind == DocumentKind::Pipeline {
            // A pipeline file among the rules (like `rules/pipelines/`): checked as a pipeline.
            if let Err(problems) = pipeline::parse(&text, &shown) {
                document.diagnostics.extend(problems);
            }
        }
        // Pipelines and lowering are part of the check: they are what every later stage depends on.
        if let Some(Content::Rule(mut rule)) = document.content.take() {
            match pipelines.apply(&mut rule) {
                Ok(_) => drop(lower(rule)),
                Err(error) => document.diagnostics.push(error.into_diagnostic(rule.pos)),
            }
        }
        report.documents += 1;
        let errors = document.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
        report.errors += errors;
        report.warnings += document.diagnostics.len() - errors;
        if errors == 0 {
            report.ok += 1;
        }
        match format {
            CheckFormat::Text => {
                for diagnostic in &document.diagnostics {
                    report.output.push_str(&render(diagnostic, &shown, &text));
                }
            }
            CheckFormat::Json => {
                report.output.push_str(&json_line(&shown, &document, errors == 0));
                report.output.push('\n');
            }
        }
    }
    report
}

fn json_line(path: &str, document: &LoadedDocument, ok: bool) -> String {
    let diagnostics: Vec<_> = document.diagnostics.iter().map(diagnostic_json).collect();
    json!({
        "path": path,
        "document": document.index,
        "id": document.id,
        "title": document.title,
        "kind": document.kind.as_str(),
        "ok": ok,
        "diagnostics": diagnostics,
    })
    .to_string()
}

fn diagnostic_json(d: &Diagnostic) -> serde_json::Value {
    json!({
        "code": d.code.as_str(),
        "severity": d.severity,
        "message": d.message,
        "line": d.pos.map(|p| p.line),
        "column": d.pos.map(|p| p.column),
    })
}
