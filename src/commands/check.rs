//! `vigil check`: compile every document, add the convention checks asked for (`--validators`, vigil.yml), report
//! every diagnostic, then one summary line.

mod conventions;

use crate::cli::{CheckArgs, CheckFormat};
use crate::rule_files;
use rayon::prelude::*;
use serde_json::json;
use std::fmt::Write as _;
use std::io::Write;
use std::time::Instant;
use vigil_compiler::compile::SourceFile;
use vigil_compiler::{render, Diagnostic};

/// What checking one file produced: its output text and its counts.
#[derive(Default)]
struct FileReport {
    output: String,
    documents: usize,
    ok: usize,
    errors: usize,
    warnings: usize,
    /// Documents with a warning (and no error), for `--strict`.
    warned: usize,
}

pub fn run(args: &CheckArgs) -> u8 {
    let started = Instant::now();
    let Some(settings) = crate::report::settings(&args.pipeline, false) else { return 2 };
    let Some(compilation) = rule_files::compile_unlinked(&args.paths, &args.pipeline.filters, &settings) else {
        return 2;
    };
    let Some(mut policy) = conventions::Policy::new(args, &compilation.files) else { return 2 };
    let mut compilation = compilation;
    if args.diff {
        let fixed = policy.fix(&compilation.files, false);
        if let Err(status) = write_all(&[fixed.diffs]) {
            return status;
        }
        eprintln!("{} files would be fixed", fixed.files);
        return u8::from(fixed.files > 0);
    }
    if args.fix {
        let fixed = policy.fix(&compilation.files, true);
        if fixed.failed > 0 {
            return 1;
        }
        if fixed.files > 0 {
            // What is left is reported on the files as they are now.
            let Some(again) = rule_files::compile_unlinked(&args.paths, &args.pipeline.filters, &settings) else {
                return 2;
            };
            compilation = again;
            let Some(again) = conventions::Policy::new(args, &compilation.files) else { return 2 };
            policy = again;
        }
    }
    let found = policy.check(&compilation.files);
    let reports: Vec<FileReport> = compilation
        .files
        .par_iter()
        .zip(found.par_iter())
        .map(|(file, conventions)| check_one(file, conventions, args))
        .collect();

    let mut total = FileReport::default();
    for report in &reports {
        total.documents += report.documents;
        total.ok += report.ok;
        total.errors += report.errors;
        total.warnings += report.warnings;
        total.warned += report.warned;
    }
    let seconds = started.elapsed().as_secs_f64();
    let written = if args.format == CheckFormat::Junit {
        let failures = (total.documents - total.ok) + if args.strict { total.warned } else { 0 };
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"vigil check\" tests=\"{0}\" failures=\"{failures}\" errors=\"0\" time=\"{seconds:.3}\">\n  \
             <testsuite name=\"vigil check\" tests=\"{0}\" failures=\"{failures}\" errors=\"0\" time=\"{seconds:.3}\">",
            total.documents
        );
        reports.iter().for_each(|r| out.push_str(&r.output));
        out.push_str("  </testsuite>\n</testsuites>\n");
        write_all(&[out])
    } else {
        write_all(&reports.iter().map(|r| r.output.clone()).collect::<Vec<_>>())
    };
    if let Err(status) = written {
        return status;
    }
    let with_errors = total.documents - total.ok;
    eprintln!(
        "{} files, {} documents: {} ok, {} with errors; {} errors, {} warnings in {seconds:.2}s",
        reports.len(),
        total.documents,
        total.ok,
        with_errors,
        total.errors,
        total.warnings,
    );
    if with_errors > 0 || (args.strict && total.warned > 0) {
        1
    } else {
        0
    }
}

fn write_all(parts: &[String]) -> Result<(), u8> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for part in parts {
        out.write_all(part.as_bytes()).map_err(|e| crate::output::failed(&e, None))?;
    }
    out.flush().map_err(|e| crate::output::failed(&e, None))
}

/// A file's report. A file that cannot be read (or is not UTF-8) is one document with that error, in every format.
/// `conventions` are the convention findings of its documents, by document index.
fn check_one(file: &SourceFile, conventions: &[(usize, Vec<Diagnostic>)], args: &CheckArgs) -> FileReport {
    let mut report = FileReport::default();
    let text =
        if conventions.is_empty() { std::borrow::Cow::Borrowed(file.text.as_str()) } else { file.text_for_problems() };
    for document in &file.documents {
        let extra = conventions.iter().filter(|(i, _)| *i == document.index).flat_map(|(_, d)| d);
        let diagnostics: Vec<&Diagnostic> = document.diagnostics.iter().chain(extra).collect();
        report.documents += 1;
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        report.errors += errors;
        report.warnings += diagnostics.len() - errors;
        if errors == 0 {
            report.ok += 1;
            report.warned += usize::from(!diagnostics.is_empty());
        }
        match args.format {
            CheckFormat::Text => {
                for diagnostic in &diagnostics {
                    report.output.push_str(&render(diagnostic, &file.path, &text));
                }
            }
            CheckFormat::Json => {
                let line = json!({
                    "path": file.path,
                    "document": document.index,
                    "id": document.id,
                    "title": document.title,
                    "kind": document.kind.as_str(),
                    "ok": errors == 0,
                    "diagnostics": diagnostics.iter().map(|d| d.to_json()).collect::<Vec<_>>(),
                });
                report.output.push_str(&line.to_string());
                report.output.push('\n');
            }
            CheckFormat::Junit => {
                let name = document.title.clone().unwrap_or_else(|| format!("document {}", document.index + 1));
                let failed = errors > 0 || (args.strict && !diagnostics.is_empty());
                let listed: String = diagnostics.iter().map(|d| render(d, &file.path, "")).collect();
                let _ = write!(
                    report.output,
                    "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                    xml(&file.path),
                    xml(&name)
                );
                if diagnostics.is_empty() {
                    report.output.push_str("/>\n");
                } else if failed {
                    let first = diagnostics.iter().find(|d| d.is_error()).unwrap_or(&diagnostics[0]);
                    let _ = write!(
                        report.output,
                        ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
                        xml(&first.message),
                        first.code,
                        xml(&listed)
                    );
                } else {
                    let _ =
                        write!(report.output, ">\n      <system-out>{}</system-out>\n    </testcase>\n", xml(&listed));
                }
            }
        }
    }
    report
}

/// Text as XML character data: markup escaped, characters XML 1.0 forbids dropped.
pub(crate) fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}
