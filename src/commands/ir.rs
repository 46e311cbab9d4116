//! `vigil ir`: print the IR of every rule, for reading and for snapshots.

use crate::cli::IrArgs;
use crate::{report, rule_files};
use std::io::Write;
use vigil_compiler::compile::Compiled;

pub fn run(args: &IrArgs) -> u8 {
    let Some(settings) = report::settings(&args.pipeline, false) else { return 2 };
    let mut status = 0;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let Some(compilation) = rule_files::compile_unlinked(&args.paths, &args.pipeline.filters, &settings) else {
        return 2;
    };
    for file in &compilation.files {
        if !file.readable {
            report::errors(file);
            status = 2;
            continue;
        }
        for document in &file.documents {
            let mut text = String::new();
            match &document.compiled {
                Some(Compiled::Rule(lowered)) => {
                    text.push_str(&format!("# {}\n{}", file.path, lowered.rule));
                    for (key, value) in &lowered.state {
                        text.push_str(&format!("state: {key} = {value}\n"));
                    }
                    text.push('\n');
                }
                Some(_) => text.push_str(&format!(
                    "# {} (document {}): a {}, which has no detection IR\n\n",
                    file.path,
                    document.index,
                    document.kind.as_str()
                )),
                // Pipeline files among rules are checked by `vigil check`; they have no IR.
                None if document.kind.is_data() => {}
                None => {
                    for d in &document.diagnostics {
                        report::problem(file, d);
                    }
                    status = status.max(1);
                }
            }
            if let Err(e) = out.write_all(text.as_bytes()) {
                return crate::output::failed(&e, None);
            }
        }
    }
    match out.flush() {
        Ok(()) => status,
        Err(e) => crate::output::failed(&e, None),
    }
}
