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

pub mod cache;
mod filters;
mod link;
pub mod routing;

use crate::codes::Code;
use crate::correlation::SigmaCorrelation;
use crate::diagnostic::{Diagnostic, Pos};
use crate::filter::SigmaFilter;
use crate::ir;
use crate::load::{load_str, Content, DocumentKind, LoadedDocument};
use crate::lower::lower;
use crate::pipeline::{PipelineSet, State};
use std::path::Path;

pub use filters::Filter;
pub use link::LinkedCorrelation;

/// What compiling needs besides the text: the pipelines, in the order they run (and other log sources' pipelines,
/// `routing.rs`), and the filters to apply.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub pipelines: PipelineSet,
    /// Other log sources a rule may be read from: the rule matches any of them.
    pub alternatives: Vec<routing::Alternative>,
    pub filters: Vec<Filter>,
}

impl Settings {
    pub fn new(pipelines: PipelineSet) -> Settings {
        Settings { pipelines, alternatives: Vec::new(), filters: Vec::new() }
    }

    /// `-p` arguments resolved, with log-source routing when `routing` is set (`routing.rs`).
    pub fn resolve(
        specs: &[String],
        routing: bool,
        options: crate::pipeline::PipelineOptions,
    ) -> Result<Settings, Vec<(String, Diagnostic)>> {
        routing::resolve(specs, routing, options)
    }

    /// The same settings with the filters of `sources` (the filter documents among them, in order; `sources` are
    /// the files compiled together, by their position).
    pub fn with_filters_of(mut self, sources: &[LoadedSource]) -> Settings {
        for (file, source) in sources.iter().enumerate() {
            for (document, loaded) in source.documents.iter().enumerate() {
                if let Some(Content::Filter(filter)) = &loaded.content {
                    self.filters.push(Filter { filter: filter.clone(), file, document });
                }
            }
        }
        self
    }

    /// The routing pipelines alone, as `vigil hunt` runs rules by default.
    pub fn routing() -> Settings {
        // Built-in pipelines always load (`pipeline::builtin`'s test), so this never drops them.
        Settings::resolve(&[], true, Default::default()).unwrap_or_default()
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
    /// The filters applied to it, by their position in [`Settings::filters`].
    pub filters: Vec<usize>,
    /// The log source as the rule wrote it (its pipelines may have changed `rule.logsource`).
    pub logsource: crate::ir::meta::LogSource,
    /// The pipelines' query postprocessing steps whose rule conditions hold for it (`vigil convert` runs them).
    pub postprocessing: Box<[crate::pipeline::OutputStep]>,
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
    compile_loaded(load_path(path, shown), settings)
}

/// A source file read and loaded (YAML, rule syntax), not compiled yet: the first of the front end's two steps, so
/// that the filters of files compiled together are known before any rule is compiled.
#[derive(Clone, Debug)]
pub struct LoadedSource {
    pub path: String,
    pub text: String,
    pub documents: Vec<LoadedDocument>,
    pub readable: bool,
}

/// Loads every document of a file's text.
pub fn load_source(path: String, text: String) -> LoadedSource {
    let documents = load_str(&text);
    LoadedSource { path, text, documents, readable: true }
}

/// Reads and loads one file; `shown` is its path as the user sees it. An unreadable file is a source whose one
/// document says why.
pub fn load_path(path: &Path, shown: String) -> LoadedSource {
    match read_source(path) {
        Ok(text) => load_source(shown, text),
        Err(diagnostic) => unreadable_source(shown, diagnostic),
    }
}

/// A file that could not be read, loaded: one document holding the reason.
pub fn unreadable_source(path: String, diagnostic: Diagnostic) -> LoadedSource {
    let document = LoadedDocument {
        index: 0,
        pos: Pos::new(1, 1),
        kind: DocumentKind::Rule,
        id: None,
        title: None,
        content: None,
        diagnostics: vec![diagnostic],
    };
    LoadedSource { path, text: String::new(), documents: vec![document], readable: false }
}

/// Compiles every document of a file's text: loads it, applies the filters and runs the pipelines over each rule,
/// and lowers it. A document's problems never stop the others.
pub fn compile_source(path: String, text: String, settings: &Settings) -> SourceFile {
    compile_loaded(load_source(path, text), settings)
}

/// The second step: compiles a loaded source.
pub fn compile_loaded(source: LoadedSource, settings: &Settings) -> SourceFile {
    let LoadedSource { path, text, documents: loaded_documents, readable } = source;
    // Exactly as many as loaded: most files hold one document, and a vector grown by pushes would hold room for
    // four (about 10 MB over the SigmaHQ corpus).
    let mut documents = Vec::with_capacity(loaded_documents.len());
    for loaded in loaded_documents {
        let mut diagnostics = loaded.diagnostics;
        if loaded.kind == DocumentKind::Pipeline {
            // A pipeline file among the rules (like `rules/pipelines/`): checked as a pipeline.
            if let Err(problems) = crate::pipeline::parse(&text, &path) {
                diagnostics.extend(problems);
            }
        }
        if loaded.kind == DocumentKind::LogSourceTable {
            // A log-source table among the rules (like `rules/logsources.yml`): checked as one.
            if let Err(problem) = crate::logsources::LogSourceTable::parse(&text) {
                diagnostics.push(problem);
            }
        }
        let compiled = match loaded.content {
            Some(Content::Rule(mut rule)) => {
                let filters = filters::apply(&mut rule, &settings.filters);
                let written = rule.logsource.clone();
                // Other sources first, on copies: the rule as its primary pipelines leave it is moved into the IR.
                let others: Vec<ir::Rule> = settings
                    .alternatives
                    .iter()
                    .filter(|alternative| alternative.may_claim(&rule))
                    .filter_map(|alternative| {
                        let mut copy = rule.clone();
                        alternative.pipelines.apply(&mut copy).ok()?;
                        alternative.claimed(&copy.applied).then(|| lower(copy))
                    })
                    .collect();
                match settings.pipelines.apply(&mut rule) {
                    Ok(state) => {
                        let pos = rule.pos;
                        let postprocessing = settings.pipelines.postprocessing_for(&rule, &state).into_boxed_slice();
                        let mut lowered = lower(rule);
                        let others: Vec<ir::Rule> = others.into_iter().filter(|o| o.expr != lowered.expr).collect();
                        if !others.is_empty() {
                            merge_identifiers(&mut lowered.identifiers, &others);
                            let primary = std::mem::replace(&mut lowered.expr, ir::Expr::Const(false));
                            let others = others.into_iter().map(|o| o.expr);
                            lowered.expr = ir::Expr::or_factored(std::iter::once(primary).chain(others).collect());
                        }
                        Some(Compiled::Rule(LoweredRule {
                            rule: lowered,
                            state,
                            pos,
                            filters,
                            logsource: written,
                            postprocessing,
                        }))
                    }
                    Err(problem) => {
                        diagnostics.push(problem);
                        None
                    }
                }
            }
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
    SourceFile { path, text, documents, readable }
}

/// A rule read from several log sources: each identifier holds when it holds in any source's form (`selection`
/// reads `Image` on Sysmon events and `NewProcessName` on Security events).
fn merge_identifiers(identifiers: &mut Vec<ir::Identifier>, others: &[ir::Rule]) {
    for other in others.iter().flat_map(|o| &o.identifiers) {
        match identifiers.iter_mut().find(|i| i.name == other.name) {
            Some(same) if same.expr != other.expr => {
                let expr = std::mem::replace(&mut same.expr, ir::Expr::Const(false));
                same.expr = ir::Expr::or(vec![expr, other.expr.clone()]);
                same.positive |= other.positive;
            }
            Some(_) => {}
            None => identifiers.push(other.clone()),
        }
    }
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
        filters::report_unused(&mut files, &settings.filters);
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
        let loaded: Vec<LoadedSource> = paths.iter().map(|p| load_path(p, p.display().to_string())).collect();
        let settings = settings.clone().with_filters_of(&loaded);
        let files = loaded.into_iter().map(|source| compile_loaded(source, &settings)).collect();
        Compilation::new(files, &settings)
    }

    /// Source files compiled together without resolving their correlations (each file checked on its own); filters
    /// that apply to no rule are still reported.
    pub fn unlinked(mut files: Vec<SourceFile>, settings: &Settings) -> Compilation {
        filters::report_unused(&mut files, &settings.filters);
        Compilation { files, correlations: Vec::new() }
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
