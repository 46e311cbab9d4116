//! Conventions across files: no two rules share an id or a title, no two files a name.

use super::Selection;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Pos};
use std::collections::BTreeMap;
use std::path::Path;

/// A document among the files checked together: the file's position in the list, the document's index, where
/// it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Place {
    file: usize,
    path: String,
    document: usize,
    pos: Pos,
}

/// The ids, titles and file names of every rule and correlation checked together; [`Collection::finish`] reports
/// those given twice.
#[derive(Debug, Default)]
pub struct Collection {
    ids: BTreeMap<String, Vec<Place>>,
    titles: BTreeMap<String, Vec<Place>>,
    /// File name -> the documents of files of that name.
    names: BTreeMap<String, Vec<Place>>,
}

impl Collection {
    /// Records a rule or correlation.
    pub fn add(&mut self, file: usize, path: &str, document: usize, pos: Pos, id: Option<&str>, title: Option<&str>) {
        let place = Place { file, path: path.to_string(), document, pos };
        if let Some(id) = id {
            self.ids.entry(id.to_string()).or_default().push(place.clone());
        }
        if let Some(title) = title {
            self.titles.entry(title.to_string()).or_default().push(place.clone());
        }
        if let Some(name) = Path::new(path).file_name() {
            self.names.entry(name.to_string_lossy().into_owned()).or_default().push(place);
        }
    }

    /// The duplicates, each reported on every document involved: (file, document, diagnostic).
    pub fn finish(self, selection: &Selection) -> Vec<(usize, usize, Diagnostic)> {
        let mut out = Vec::new();
        let mut report = |code: Code, what: &str, groups: BTreeMap<String, Vec<Place>>, distinct_files: bool| {
            if !selection.runs(code) {
                return;
            }
            for (key, places) in groups {
                let mut paths: Vec<&str> = places.iter().map(|p| p.path.as_str()).collect();
                paths.dedup();
                let twice = if distinct_files { paths.len() > 1 } else { places.len() > 1 };
                if !twice {
                    continue;
                }
                for place in &places {
                    let others: Vec<String> = places
                        .iter()
                        .filter(|p| *p != place && (!distinct_files || p.path != place.path))
                        .map(|p| format!("{} (document {})", p.path, p.document + 1))
                        .take(3)
                        .collect();
                    let message = format!("{what} `{key}` is also used by {}", others.join(", "));
                    out.push((place.file, place.document, Diagnostic::warning(code, place.pos, message)));
                }
            }
        };
        report(Code::IdentifierUniqueness, "id", self.ids, false);
        report(Code::DuplicateTitle, "title", self.titles, false);
        report(Code::DuplicateFilename, "file name", self.names, true);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Set;

    #[test]
    fn duplicates_are_reported_on_every_document_involved() {
        let selection = Selection { sets: [Set::Pysigma].into(), excluded: Default::default() };
        let mut collection = Collection::default();
        let at = Pos::new(1, 1);
        collection.add(0, "a/rule_one.yml", 0, at, Some("id-1"), Some("Same"));
        collection.add(1, "b/rule_one.yml", 0, at, Some("id-2"), Some("Same"));
        collection.add(2, "c/other.yml", 0, at, Some("id-1"), Some("Other"));
        let found: Vec<(usize, Code)> =
            collection.finish(&selection).into_iter().map(|(f, _, d)| (f, d.code)).collect();
        assert_eq!(
            found,
            vec![
                (0, Code::IdentifierUniqueness),
                (2, Code::IdentifierUniqueness),
                (0, Code::DuplicateTitle),
                (1, Code::DuplicateTitle),
                (0, Code::DuplicateFilename),
                (1, Code::DuplicateFilename),
            ]
        );
    }
}
