//! One diagnostic type for every stage: a stable code, a severity, a message and a location.

use crate::codes::Code;
use serde::Serialize;

/// How bad a diagnostic is. Errors reject the document; warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A position in a source file: 1-based line and column (columns count characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub fn new(line: u32, column: u32) -> Self {
        Pos { line, column }
    }

    /// The same position moved `chars` characters to the right (inside a single-line scalar).
    pub fn shifted(self, chars: usize) -> Self {
        Pos { line: self.line, column: self.column + chars as u32 }
    }
}

/// A problem found in a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Where in the file; `None` when the problem concerns the whole file.
    pub pos: Option<Pos>,
}

impl Diagnostic {
    pub fn error(code: Code, pos: impl Into<Option<Pos>>, message: impl Into<String>) -> Self {
        Diagnostic { code, severity: Severity::Error, message: message.into(), pos: pos.into() }
    }

    pub fn warning(code: Code, pos: impl Into<Option<Pos>>, message: impl Into<String>) -> Self {
        Diagnostic { code, severity: Severity::Warning, message: message.into(), pos: pos.into() }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Collects diagnostics while a stage runs, so that every problem is reported, not only the first.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn error(&mut self, code: Code, pos: impl Into<Option<Pos>>, message: impl Into<String>) {
        self.push(Diagnostic::error(code, pos, message));
    }

    pub fn warning(&mut self, code: Code, pos: impl Into<Option<Pos>>, message: impl Into<String>) {
        self.push(Diagnostic::warning(code, pos, message));
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn into_vec(mut self) -> Vec<Diagnostic> {
        self.items.sort_by_key(|d| (d.pos, d.code));
        self.items
    }
}

/// Renders a diagnostic for people: `path:line:col: error[code]: message`, then the source line and a caret.
pub fn render(diagnostic: &Diagnostic, path: &str, source: &str) -> String {
    let severity = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let Some(pos) = diagnostic.pos else {
        return format!("{path}: {severity}[{}]: {}\n", diagnostic.code, diagnostic.message);
    };
    let mut out =
        format!("{path}:{}:{}: {severity}[{}]: {}\n", pos.line, pos.column, diagnostic.code, diagnostic.message);
    if let Some(line) = source.lines().nth(pos.line.saturating_sub(1) as usize) {
        let gutter = pos.line.to_string();
        let pad = " ".repeat(gutter.len());
        // Tabs are shown as one space so the caret stays under the right character.
        let shown: String = line.chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
        let caret_at = (pos.column.saturating_sub(1) as usize).min(shown.chars().count());
        out.push_str(&format!("{pad} |\n{gutter} | {shown}\n{pad} | {}^\n", " ".repeat(caret_at)));
    }
    out
}
