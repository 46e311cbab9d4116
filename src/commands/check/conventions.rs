//! Which convention checks apply to each file (`--validators`, `--exclude`, the nearest vigil.yml's `check:`), and
//! running them: per file in parallel, then the duplicates across files, then the per-rule exclusions.

use crate::cli::CheckArgs;
use crate::commands::test::config::{self, CheckConfig};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use vigil_compiler::compile::SourceFile;
use vigil_compiler::validate::{fix_source, validate_source, Collection, Selection};
use vigil_compiler::{Code, Diagnostic, DocumentKind};

/// The convention findings of a file, by document index.
pub type Found = Vec<(usize, Vec<Diagnostic>)>;

/// The checks of one vigil.yml (or of none): the selection and the per-rule exclusions.
struct Rules {
    selection: Selection,
    /// Rule id or file name -> codes excused.
    exclusions: Vec<(String, Vec<Code>)>,
}

pub struct Policy {
    /// One entry per distinct configuration; `of_file[i]` points into it.
    rules: Vec<Rules>,
    of_file: Vec<usize>,
}

impl Policy {
    /// Resolves the checks of every file; `None` (after reporting why) on a bad option or vigil.yml.
    pub fn new(args: &CheckArgs, files: &[SourceFile]) -> Option<Policy> {
        let cli_sets = match args.validators.as_deref().map(Selection::parse_sets).transpose() {
            Ok(sets) => sets,
            Err(message) => return usage(message),
        };
        let mut cli_excluded = Vec::new();
        for code in &args.exclude {
            match Selection::parse_exclusion(code) {
                Ok(codes) => cli_excluded.extend(codes),
                Err(message) => return usage(message),
            }
        }
        let mut by_config: HashMap<Option<PathBuf>, usize> = HashMap::new();
        let mut by_folder: HashMap<PathBuf, usize> = HashMap::new();
        let mut rules = Vec::new();
        let mut of_file = Vec::with_capacity(files.len());
        for file in files {
            let folder = Path::new(&file.path).parent().map(Path::to_path_buf).unwrap_or_default();
            if let Some(&index) = by_folder.get(&folder) {
                of_file.push(index);
                continue;
            }
            let found = config::find(Path::new(&file.path));
            let index = match by_config.get(&found) {
                Some(&index) => index,
                None => {
                    let check = match &found {
                        Some(path) => match std::fs::read_to_string(path)
                            .map_err(|e| e.to_string())
                            .and_then(|t| config::parse(&t))
                        {
                            Ok(config) => config.check,
                            Err(message) => {
                                let problem = Diagnostic::error(Code::InvalidConfig, None, message);
                                crate::report::problem_in(&path.display().to_string(), "", &problem);
                                return None;
                            }
                        },
                        None => CheckConfig::default(),
                    };
                    let resolved = match resolve(&check, cli_sets.as_ref(), &cli_excluded) {
                        Ok(resolved) => resolved,
                        Err(message) => {
                            let where_ = found.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
                            let problem = Diagnostic::error(Code::InvalidConfig, None, message);
                            crate::report::problem_in(&where_, "", &problem);
                            return None;
                        }
                    };
                    rules.push(resolved);
                    by_config.insert(found, rules.len() - 1);
                    rules.len() - 1
                }
            };
            by_folder.insert(folder, index);
            of_file.push(index);
        }
        Some(Policy { rules, of_file })
    }

    /// The convention findings of every file, in file order.
    pub fn check(&self, files: &[SourceFile]) -> Vec<Found> {
        if self.rules.iter().all(|r| r.selection.is_empty()) {
            return vec![Vec::new(); files.len()];
        }
        let mut found: Vec<Found> = files
            .par_iter()
            .zip(self.of_file.par_iter())
            .map(|(file, &rules)| {
                let selection = &self.rules[rules].selection;
                if selection.is_empty() || !file.readable {
                    return Vec::new();
                }
                validate_source(Path::new(&file.path), &file.text_for_problems(), selection)
            })
            .collect();
        // Duplicates are judged over the files that share a configuration.
        for (index, rules) in self.rules.iter().enumerate() {
            let mut collection = Collection::default();
            for (f, file) in files.iter().enumerate().filter(|(f, _)| self.of_file[*f] == index) {
                for document in &file.documents {
                    if matches!(document.kind, DocumentKind::Rule | DocumentKind::Correlation) && !document.has_errors()
                    {
                        let (id, title) = (document.id.as_deref(), document.title.as_deref());
                        collection.add(f, &file.path, document.index, document.pos, id, title);
                    }
                }
            }
            for (file, document, diagnostic) in collection.finish(&rules.selection) {
                found[file].push((document, vec![diagnostic]));
            }
        }
        for (f, file) in files.iter().enumerate() {
            let exclusions = &self.rules[self.of_file[f]].exclusions;
            if exclusions.is_empty() {
                continue;
            }
            let name = Path::new(&file.path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            for (index, diagnostics) in &mut found[f] {
                let id = file.documents.iter().find(|d| d.index == *index).and_then(|d| d.id.clone());
                let excused: Vec<Code> = exclusions
                    .iter()
                    .filter(|(key, _)| *key == name || Some(key) == id.as_ref())
                    .flat_map(|(_, codes)| codes.iter().copied())
                    .collect();
                diagnostics.retain(|d| !excused.contains(&d.code));
            }
        }
        found
    }
}

/// What `--fix` or `--diff` did.
#[derive(Default)]
pub struct Fixed {
    pub files: usize,
    pub failed: usize,
    /// The diffs (`--diff`), in file order.
    pub diffs: String,
}

impl Policy {
    /// The safe fixes of every file: written (`write`) or shown as diffs.
    pub fn fix(&self, files: &[SourceFile], write: bool) -> Fixed {
        let mut fixed = Fixed::default();
        for (f, file) in files.iter().enumerate() {
            let selection = &self.rules[self.of_file[f]].selection;
            if selection.is_empty() || !file.readable {
                continue;
            }
            let text = file.text_for_problems();
            let path = Path::new(&file.path);
            match fix_source(path, &text, selection) {
                Ok(None) => {}
                Ok(Some((new, codes))) => {
                    fixed.files += 1;
                    let codes: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
                    if write {
                        if let Err(e) = crate::commands::fmt::replace(path, &new) {
                            let problem =
                                Diagnostic::error(Code::OutputUnwritable, None, format!("cannot write the fixes: {e}"));
                            crate::report::problem_in(&file.path, "", &problem);
                            fixed.failed += 1;
                        } else {
                            eprintln!("{}: fixed {}", file.path, codes.join(", "));
                        }
                    } else {
                        fixed.diffs.push_str(
                            &similar::TextDiff::from_lines(text.as_ref(), new.as_str())
                                .unified_diff()
                                .context_radius(2)
                                .header(
                                    &format!("{} (as written)", file.path),
                                    &format!("{} (fixed: {})", file.path, codes.join(", ")),
                                )
                                .to_string(),
                        );
                    }
                }
                Err(reason) => {
                    let problem = Diagnostic::warning(Code::FixRefused, None, reason);
                    crate::report::problem_in(&file.path, "", &problem);
                }
            }
        }
        fixed
    }
}

/// A configuration's checks with the command line's on top: `--validators` replaces `check.validators`, and
/// `--exclude` adds to `check.exclude`.
fn resolve(
    check: &CheckConfig,
    cli_sets: Option<&std::collections::BTreeSet<vigil_compiler::validate::Set>>,
    cli_excluded: &[Code],
) -> Result<Rules, String> {
    let sets = match (cli_sets, &check.validators) {
        (Some(sets), _) => sets.clone(),
        (None, Some(names)) => Selection::parse_sets(names).map_err(|e| format!("check.validators: {e}"))?,
        (None, None) => Default::default(),
    };
    let mut excluded: std::collections::BTreeSet<Code> = cli_excluded.iter().copied().collect();
    for code in &check.exclude {
        excluded.extend(Selection::parse_exclusion(code).map_err(|e| format!("check.exclude: {e}"))?);
    }
    let mut exclusions = Vec::new();
    for (key, codes) in &check.exclusions {
        let mut excused = Vec::new();
        for code in codes {
            excused.extend(Selection::parse_exclusion(code).map_err(|e| format!("check.exclusions.{key}: {e}"))?);
        }
        exclusions.push((key.clone(), excused));
    }
    Ok(Rules { selection: Selection { sets, excluded }, exclusions })
}

fn usage<T>(message: String) -> Option<T> {
    crate::report::usage(message);
    None
}
