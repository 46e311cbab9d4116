//! Turning `-p` arguments into a ready pipeline set, before any rule is read.

use crate::cli::PipelineArgs;
use vigil_compiler::diagnostic::render;
use vigil_compiler::pipeline::{load_spec, Options, PipelineSet};

/// Loads the pipelines named on the command line; on failure prints every problem, located in its file, and
/// returns `None`.
pub fn resolve(args: &PipelineArgs) -> Option<PipelineSet> {
    let options = Options { allow_external_sources: args.allow_external_sources };
    let mut pipelines = Vec::new();
    let mut failed = false;
    for spec in &args.pipelines {
        match load_spec(spec) {
            Ok(pipeline) => pipelines.push(pipeline),
            Err(problems) => {
                failed = true;
                let text = std::fs::read_to_string(spec).unwrap_or_default();
                for problem in problems {
                    if problem.pos.is_some() {
                        eprint!("{}", render(&problem, spec, &text));
                    } else {
                        eprintln!("vigil: error[{}]: {}", problem.code, problem.message);
                    }
                }
            }
        }
    }
    (!failed).then(|| PipelineSet::new(pipelines, options))
}
