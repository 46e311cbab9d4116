//! `vigil list`: what is built in.

use crate::cli::{ListArgs, ListWhat};
use vigil_compiler::backend::Target;
use vigil_compiler::pipeline::builtin;

/// Prints aligned rows; the exit status.
fn table(rows: &[(&str, &str)]) -> u8 {
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let text: String = rows.iter().map(|(name, description)| format!("{name:width$}  {description}\n")).collect();
    crate::output::print(&text).err().unwrap_or(0)
}

pub fn run(args: &ListArgs) -> u8 {
    match args.what {
        ListWhat::Pipelines => table(&builtin::list()),
        ListWhat::Targets => {
            let rows: Vec<(&str, &str)> = Target::ALL.iter().map(|t| (t.name(), t.description())).collect();
            table(&rows)
        }
        ListWhat::Formats => {
            let Some(name) = &args.target else {
                return crate::report::usage("`list formats` needs a target: `vigil list formats -t splunk`");
            };
            let Some(target) = Target::parse(name) else {
                let problem = vigil_compiler::Diagnostic::error(
                    vigil_compiler::Code::UnknownTarget,
                    None,
                    format!("unknown target `{name}` (see `vigil list targets`)"),
                );
                crate::report::general(&problem);
                return 2;
            };
            table(&target.formats())
        }
        ListWhat::Validators => {
            let rows: Vec<(&str, String)> = vigil_compiler::validate::CATALOG
                .iter()
                .map(|c| {
                    let pysigma = format!("{} ({})", c.validators.join(", "), c.issues.join(", "));
                    (c.code.as_str(), format!("{:8} pySigma: {pysigma}", c.set.name()))
                })
                .collect();
            let rows: Vec<(&str, &str)> = rows.iter().map(|(c, d)| (*c, d.as_str())).collect();
            table(&rows)
        }
    }
}
