//! `vigil list`: what is built in.

use crate::cli::{ListArgs, ListWhat};
use vigil_compiler::pipeline::builtin;

pub fn run(args: &ListArgs) -> u8 {
    match args.what {
        ListWhat::Pipelines => {
            let width = builtin::list().iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            for (name, description) in builtin::list() {
                println!("{name:width$}  {description}");
            }
        }
    }
    0
}
