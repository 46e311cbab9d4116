//! `vigil ir`: print the IR of every rule, for reading and for snapshots.

use crate::cli::IrArgs;
use crate::pipelines;
use crate::rule_files;
use vigil_compiler::diagnostic::render;
use vigil_compiler::{load_str, lower, Content, DocumentKind};

pub fn run(args: &IrArgs) -> u8 {
    let Some(pipelines) = pipelines::resolve(&args.pipeline) else { return 2 };
    let mut status = 0;
    for found in rule_files::find(&args.paths) {
        let Some((shown, text)) = rule_files::open(&found) else {
            status = 2;
            continue;
        };
        for document in load_str(&text) {
            match document.content {
                Some(Content::Rule(mut rule)) => match pipelines.apply(&mut rule) {
                    Ok(state) => {
                        print!("# {shown}\n{}", lower(rule));
                        for (key, value) in state {
                            println!("state: {key} = {value}");
                        }
                        println!();
                    }
                    Err(error) => {
                        eprint!("{}", render(&error.into_diagnostic(rule.pos), &shown, &text));
                        status = status.max(1);
                    }
                },
                Some(_) => println!(
                    "# {shown} (document {}): a {}, which has no detection IR\n",
                    document.index,
                    document.kind.as_str()
                ),
                // Pipeline files among rules are checked by `vigil check`; they have no IR.
                None if document.kind == DocumentKind::Pipeline => {}
                None => {
                    for d in &document.diagnostics {
                        eprint!("{}", render(d, &shown, &text));
                    }
                    status = status.max(1);
                }
            }
        }
    }
    status
}
