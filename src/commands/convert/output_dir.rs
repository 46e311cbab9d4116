//! `vigil convert --output-dir DIR`: one file per rule (per query when a rule has several and the name template
//! says `{index}`), named by `--output-filename-template` with sigma-cli 3.1's placeholders and a few more.

use super::Converted;
use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use vigil_compiler::backend::Target;

/// The placeholders a file-name template may use.
pub const PLACEHOLDERS: &[&str] = &["path", "stem", "index", "id", "title", "target", "format", "ext"];

/// The file extension of a target's queries.
pub fn extension(target: Target, format: &str) -> &'static str {
    match (target, format) {
        (Target::Splunk, "savedsearches") => "conf",
        (Target::Kusto, "sentinel_rule") => "yaml",
        (_, "kibana_ndjson" | "siem_rule" | "siem_rule_ndjson") => "ndjson",
        (_, "dsl_lucene" | "eqlapi" | "defender_detection") => "json",
        (Target::Sqlite | Target::Postgres | Target::Duckdb | Target::Spark, _) => "sql",
        (Target::Kusto, _) => "kql",
        (Target::Splunk, _) => "spl",
        (Target::Lucene, _) => "lucene",
        (Target::Esql, _) => "esql",
        (Target::Eql, _) => "eql",
    }
}

/// Checks a template: known placeholders only, balanced braces. The problem, if any.
pub fn check_template(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').ok_or_else(|| format!("`{template}`: a `{{` without `}}`"))? + open;
        let name = &rest[open + 1..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "`{template}`: unknown placeholder `{{{name}}}` (placeholders: {})",
                PLACEHOLDERS.join(", ")
            ));
        }
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("`{template}`: a `}}` without `{{`"));
    }
    Ok(())
}

/// Text safe as (part of) a file name: letters, digits, `.`, `-`, `_`; anything else becomes `_`.
fn file_safe(text: &str) -> String {
    text.chars().map(|c| if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect()
}

/// What a file name is made of.
pub struct Naming<'a> {
    pub template: &'a str,
    pub target: Target,
    pub format: &'a str,
    /// The paths given on the command line, for `{path}` (the rule's folder relative to the one it was found in).
    pub roots: &'a [PathBuf],
}

impl Naming<'_> {
    /// The relative file name for a rule's query (`index` from 1 when the rule has several).
    pub fn render(
        &self,
        rule_path: &Path,
        id: Option<&str>,
        title: Option<&str>,
        index: Option<usize>,
    ) -> Result<PathBuf, String> {
        let folder = self
            .roots
            .iter()
            .filter(|root| root.is_dir())
            .find_map(|root| rule_path.strip_prefix(root).ok())
            .and_then(Path::parent)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = rule_path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let mut out = self.template.to_string();
        for (name, value) in [
            ("path", folder),
            ("stem", file_safe(&stem)),
            ("index", index.map(|i| i.to_string()).unwrap_or_default()),
            ("id", file_safe(id.unwrap_or(&stem))),
            ("title", file_safe(title.unwrap_or(&stem))),
            ("target", self.target.name().to_string()),
            ("format", self.format.to_string()),
            ("ext", extension(self.target, self.format).to_string()),
        ] {
            out = out.replace(&format!("{{{name}}}"), &value);
        }
        while out.contains("//") {
            out = out.replace("//", "/");
        }
        let path = PathBuf::from(out.trim_matches('/'));
        let inside = path.components().all(|c| matches!(c, Component::Normal(_)));
        if !inside || path.as_os_str().is_empty() {
            return Err(format!(
                "the template gives `{}`, which is not a file inside the output folder",
                path.display()
            ));
        }
        Ok(path)
    }
}

/// What writing the files did.
#[derive(Default)]
pub struct Written {
    pub files: usize,
    pub failed: usize,
}

/// Writes each converted rule's queries under `dir`. A file that exists is replaced only with `force`; two rules
/// named alike in one run are an error for the second (nothing is overwritten silently).
pub fn write(
    results: &[Converted<'_>],
    paths: &[String],
    dir: &Path,
    naming: &Naming<'_>,
    prelude: Option<&str>,
    force: bool,
) -> Written {
    let mut written = Written::default();
    let mut taken: HashSet<PathBuf> = HashSet::new();
    for converted in results {
        let Ok(queries) = &converted.result else { continue };
        let rule_path = Path::new(&paths[converted.file]);
        let (id, title) = (converted.document.id.as_deref(), converted.document.title.as_deref());
        // Several queries: a file each when the template numbers them, else one file with a query per line.
        let numbered = queries.len() > 1 && naming.template.contains("{index}");
        let groups: Vec<(Option<usize>, Vec<&String>)> = if numbered {
            queries.iter().enumerate().map(|(i, q)| (Some(i + 1), vec![q])).collect()
        } else {
            vec![(None, queries.iter().collect())]
        };
        for (index, group) in groups {
            let problem = |message: String| {
                crate::report::problem_in(
                    &rule_path.display().to_string(),
                    "",
                    &vigil_compiler::Diagnostic::error(vigil_compiler::Code::OutputUnwritable, None, message),
                );
            };
            let name = match naming.render(rule_path, id, title, index) {
                Ok(name) => name,
                Err(message) => {
                    problem(message);
                    written.failed += 1;
                    continue;
                }
            };
            let path = dir.join(&name);
            if !taken.insert(path.clone()) {
                problem(format!(
                    "{} is also the name of another rule's output: add {{id}} or {{path}} to the template",
                    path.display()
                ));
                written.failed += 1;
                continue;
            }
            if path.exists() && !force {
                problem(format!("{} exists (--force replaces it)", path.display()));
                written.failed += 1;
                continue;
            }
            let mut text = String::new();
            if let Some(prelude) = prelude {
                text.push_str(prelude);
                text.push('\n');
            }
            for query in group {
                text.push_str(query);
                text.push('\n');
            }
            let result = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| crate::commands::fmt::replace(&path, &text));
            match result {
                Ok(()) => written.files += 1,
                Err(e) => {
                    problem(format!("cannot write {}: {e}", path.display()));
                    written.failed += 1;
                }
            }
        }
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_template() {
        let roots = [PathBuf::from("/nonexistent-root")];
        let naming = Naming {
            template: "{target}/{stem}-{index}.{ext}",
            target: Target::Kusto,
            format: "default",
            roots: &roots,
        };
        let name = naming.render(Path::new("/r/proc_creation_x.yml"), Some("abc"), Some("A / B"), Some(2)).unwrap();
        assert_eq!(name, PathBuf::from("kusto/proc_creation_x-2.kql"));
        let naming = Naming { template: "{title}_{id}.txt", target: Target::Splunk, format: "default", roots: &roots };
        let name = naming.render(Path::new("x.yml"), Some("0b0e-1"), Some("Whoami / Run"), None).unwrap();
        assert_eq!(name, PathBuf::from("Whoami___Run_0b0e-1.txt"));
        let naming = Naming { template: "../{stem}", target: Target::Splunk, format: "default", roots: &roots };
        assert!(naming.render(Path::new("x.yml"), None, None, None).is_err());
        assert!(check_template("{stem}.{nope}").is_err());
        assert!(check_template("{stem").is_err());
        assert!(check_template("{path}/{stem}-{index}.{ext}").is_ok());
    }
}
