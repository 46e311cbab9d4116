//! The front end every command uses: a source file's text, with the resolved pipelines, in; compiled documents
//! out, each with its diagnostics. Rules come out lowered to the IR with the state their pipelines left;
//! correlations are resolved against the rules compiled with them and lowered to the correlation IR
//! ([`Compilation::new`], `link.rs`).
//!
//! ```text
//! path --read_source--> text --compile_source--> SourceFile { documents: rule (ir::Rule + state) | correlation | filter }
//! SourceFile* --Compilation::new--> rules in order + correlations (ir::Correlation, in dependency order)
//! ```
//!
//! Nothing else applies pipelines or lowers rules: commands find files, compile them here, then run or render.

mod link;

use crate::codes::Code;
use crate::correlation::SigmaCorrelation;
use crate::diagnostic::{Diagnostic, Pos};
use crate::filter::SigmaFilter;
use crate::ir;
use crate::load::{load_str, Content, DocumentKind};
use crate::lower::lower;
use crate::pipeline::{PipelineSet, State};
use std::path::Path;

pub use link::LinkedCorrelation;

/// What compiling needs besides the text: the pipelines, in the order they run.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub pipelines: PipelineSet,
}

impl Settings {
    pub fn new(pipelines: PipelineSet) -> Settings {
        Settings { pipelines }
    }

    /// The routing pipelines alone (`pipeline::ROUTING`), as `vigil hunt` runs rules by default.
    pub fn routing() -> Settings {
        // Built-in pipelines always load (`pipeline::builtin`'s test), so this never drops them.
        Settings::new(PipelineSet::resolve(&[], true, Default::default()).unwrap_or_default())
    }
}

/// A rule after its pipelines, lowered.
#[derive(Clone, Debug)]
pub struct LoweredRule {
    pub rule: ir::Rule,
    /// The state the pipelines left (`table`, ...), for backends.
    pub state: State,
    /// Where the rule's document starts.
    pub pos: Pos,
}

/// What a document compiled to.
#[derive(Clone, Debug)]
pub enum Compiled {
    Rule(LoweredRule),
    /// Resolved and lowered against the other documents by [`Compilation::new`].
    Correlation(SigmaCorrelation),
    Filter(SigmaFilter),
}

/// One document of a source file, compiled, with every problem found in it. `compiled` is `None` when it has
/// errors, and for pipeline documents sitting among rules (checked, nothing to compile).
#[derive(Clone, Debug)]
pub struct Document {
    /// 0-based position among the file's documents.
    pub index: usize,
    pub pos: Pos,
    pub kind: DocumentKind,
    pub id: Option<String>,
    pub title: Option<String>,
    pub compiled: Option<Compiled>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Document {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The document's first error, if any.
    pub fn first_error(&self) -> Option<&Diagnostic> {
        self.diagnostics.iter().find(|d| d.is_error())
    }

    pub fn rule(&self) -> Option<&LoweredRule> {
        match &self.compiled {
            Some(Compiled::Rule(rule)) => Some(rule),
            _ => None,
        }
    }
}

/// A source file and its compiled documents. An unreadable file has no text and one document holding why.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as shown to the user.
    pub path: String,
    /// The file's text, when a document has a diagnostic (empty otherwise: [`SourceFile::text_for_problems`]).
    pub text: String,
    pub documents: Vec<Document>,
    /// Whether the file could be read (otherwise its one document says why).
    pub readable: bool,
}

impl SourceFile {
    /// The text to show a problem's line from: the text kept, or the file read again (for a problem found after
    /// compiling, such as a conversion's).
    pub fn text_for_problems(&self) -> std::borrow::Cow<'_, str> {
        if !self.text.is_empty() || !self.readable {
            return std::borrow::Cow::Borrowed(&self.text);
        }
        std::borrow::Cow::Owned(read_source(Path::new(&self.path)).unwrap_or_default())
    }
}

/// Reads a file as UTF-8 text; an unreadable file or one that is not UTF-8 is a diagnostic (`invalid-utf8` at the
/// line and column of the first invalid byte).
pub fn read_source(path: &Path) -> Result<String, Diagnostic> {
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostic::error(Code::FileUnreadable, None, format!("cannot read the file: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..valid];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
        Diagnostic::error(
            Code::InvalidUtf8,
            Pos::new(line as u32, column as u32),
            format!("the file is not UTF-8 text (invalid byte 0x{:02x})", e.as_bytes()[valid]),
        )
    })
}

/// Reads and compiles one file; `shown` is its path as the user sees it.
pub fn compile_path(path: &Path, shown: String, settings: &Settings) -> SourceFile {
    match read_source(path) {
        Ok(text) => compile_source(shown, text, settings),
        Err(diagnostic) => unreadable(shown, diagnostic),
    }
}

/// A file that could not be read: one document holding the reason.
pub fn unreadable(path: String, diagnostic: Diagnostic) -> SourceFile {
    let document = Document {
        index: 0,
        pos: Pos::new(1, 1),
        kind: DocumentKind::Rule,
        id: None,
        title: None,
        compiled: None,
        diagnostics: vec![diagnostic],
    };
    SourceFile { path, text: String::new(), documents: vec![document], readable: false }
}

/// Compiles every document of a file's text: loads it, runs the pipelines over each rule and lowers it. A
/// document's problems never stop the others.
pub fn compile_source(path: String, text: String, settings: &Settings) -> SourceFile {
    let mut documents = Vec::new();
    for loaded in load_str(&text) {
        let mut diagnostics = loaded.diagnostics;
        if loaded.kind == DocumentKind::Pipeline {
            // A pipeline file among the rules (like `rules/pipelines/`): checked as a pipeline.
            if let Err(problems) = crate::pipeline::parse(&text, &path) {
                diagnostics.extend(problems);
            }
        }
        let compiled = match loaded.content {
            Some(Content::Rule(mut rule)) => match settings.pipelines.apply(&mut rule) {
                Ok(state) => {
                    let pos = rule.pos;
                    Some(Compiled::Rule(LoweredRule { rule: lower(rule), state, pos }))
                }
                Err(problem) => {
                    diagnostics.push(problem);
                    None
                }
            },
            Some(Content::Correlation(correlation)) => Some(Compiled::Correlation(correlation)),
            Some(Content::Filter(filter)) => Some(Compiled::Filter(filter)),
            None => None,
        };
        documents.push(Document {
            index: loaded.index,
            pos: loaded.pos,
            kind: loaded.kind,
            id: loaded.id,
            title: loaded.title,
            compiled,
            diagnostics,
        });
    }
    // The text is kept for showing the lines of the file's diagnostics; without any, it is not held (a rule set of
    // thousands of files would keep megabytes of text for nothing).
    let text = if documents.iter().any(|d| !d.diagnostics.is_empty()) { text } else { String::new() };
    SourceFile { path, text, documents, readable: true }
}

/// A rule of a compilation, with where it came from.
#[derive(Clone, Copy)]
pub struct RuleRef<'c> {
    pub file: &'c SourceFile,
    pub document: &'c Document,
    pub rule: &'c LoweredRule,
}

/// Source files compiled together: their rules in order (files, then documents), and their correlations
/// resolved against those rules and each other, lowered, in dependency order (what a correlation reads comes
/// before it). A correlation that cannot be resolved gets a diagnostic on its document and is left out.
#[derive(Clone, Debug, Default)]
pub struct Compilation {
    pub files: Vec<SourceFile>,
    pub correlations: Vec<LinkedCorrelation>,
}

impl Compilation {
    pub fn new(mut files: Vec<SourceFile>, settings: &Settings) -> Compilation {
        let correlations = link::link(&mut files, &settings.pipelines);
        Compilation { files, correlations }
    }

    /// Every lowered rule, in order; `InputSource::Rule(i)` of a correlation is the i-th.
    pub fn rules(&self) -> impl Iterator<Item = RuleRef<'_>> {
        self.files.iter().flat_map(|file| {
            file.documents.iter().filter_map(move |document| Some(RuleRef { file, document, rule: document.rule()? }))
        })
    }

    /// The correlation compiled from document `document` of file `file`, and its position in `correlations`.
    pub fn correlation_of(&self, file: usize, document: usize) -> Option<(usize, &LinkedCorrelation)> {
        self.correlations.iter().enumerate().find(|(_, c)| c.file == file && c.document == document)
    }

    /// Reads and compiles `paths` (files, each shown as given) with `settings`, and links them.
    pub fn of_files(paths: &[std::path::PathBuf], settings: &Settings) -> Compilation {
        let files = paths.iter().map(|p| compile_path(p, p.display().to_string(), settings)).collect();
        Compilation::new(files, settings)
    }

    /// Moves every lowered rule out, in order (the i-th is `InputSource::Rule(i)`), with the position of its file:
    /// for a matcher that keeps the rules but not the files. The documents keep their diagnostics.
    pub fn take_rules(&mut self) -> Vec<(usize, LoweredRule)> {
        let mut rules = Vec::new();
        for (f, file) in self.files.iter_mut().enumerate() {
            for document in &mut file.documents {
                if matches!(document.compiled, Some(Compiled::Rule(_))) {
                    if let Some(Compiled::Rule(lowered)) = document.compiled.take() {
                        rules.push((f, lowered));
                    }
                }
            }
        }
        rules
    }

    /// The lowered rules with their files' paths, in order, for the matcher.
    pub fn into_rules(self) -> Vec<(String, ir::Rule)> {
        let mut rules = Vec::new();
        for file in self.files {
            for document in file.documents {
                if let Some(Compiled::Rule(lowered)) = document.compiled {
                    rules.push((file.path.clone(), lowered.rule));
                }
            }
        }
        rules
    }

    /// Every diagnostic of every document, with its file, in order.
    pub fn diagnostics(&self) -> impl Iterator<Item = (&SourceFile, &Diagnostic)> {
        self.files
            .iter()
            .flat_map(|file| file.documents.iter().flat_map(move |d| d.diagnostics.iter().map(move |x| (file, x))))
    }
}
