//! One diagnostic type for every stage: a stable code, a severity, a message and a location.

use crate::codes::Code;
use serde::{Deserialize, Serialize};

/// How bad a diagnostic is. Errors reject the document; warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A position in a source file: 1-based line and column (columns count characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

/// A problem, wherever it was found: in a file's YAML, a rule, a pipeline, the matcher's compilation of a rule, or
/// a conversion for one target. Every command prints it the same way ([`render`], [`Diagnostic::to_json`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Where in the file; `None` when the problem concerns the whole file.
    pub pos: Option<Pos>,
    /// The conversion target the problem is about (`unsupported-regex` on `splunk`); `None` for the others.
    pub target: Option<&'static str>,
}

impl Diagnostic {
    pub fn error(code: Code, pos: impl Into<Option<Pos>>, message: impl Into<String>) -> Self {
        Diagnostic { code, severity: Severity::Error, message: message.into(), pos: pos.into(), target: None }
    }

    pub fn warning(code: Code, pos: impl Into<Option<Pos>>, message: impl Into<String>) -> Self {
        Diagnostic { code, severity: Severity::Warning, message: message.into(), pos: pos.into(), target: None }
    }

    /// An error whose position is filled in later, by the caller that knows which rule it concerns (a backend
    /// or the matcher sees the IR, which carries no positions).
    pub fn unlocated(code: Code, message: impl Into<String>) -> Self {
        Diagnostic::error(code, None, message)
    }

    /// The same diagnostic at `pos`, unless it already has a position.
    pub fn located(mut self, pos: Pos) -> Self {
        self.pos.get_or_insert(pos);
        self
    }

    /// The same diagnostic, about conversions to `target`.
    pub fn for_target(mut self, target: &'static str) -> Self {
        self.target = Some(target);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The one JSON form of a diagnostic: `{"code", "severity", "message", "line", "column"}`, and `"target"` for
    /// conversion problems.
    pub fn to_json(&self) -> serde_json::Value {
        let mut json = serde_json::json!({
            "code": self.code.as_str(),
            "severity": self.severity,
            "message": self.message,
            "line": self.pos.map(|p| p.line),
            "column": self.pos.map(|p| p.column),
        });
        if let (Some(target), Some(map)) = (self.target, json.as_object_mut()) {
            map.insert("target".into(), target.into());
        }
        json
    }
}

impl std::fmt::Display for Diagnostic {
    /// `message [code]`, with the target: for one-line reports where the location is shown apart.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.target {
            Some(target) => write!(f, "{} [{}, {target}]", self.message, self.code),
            None => write!(f, "{} [{}]", self.message, self.code),
        }
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

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn into_vec(mut self) -> Vec<Diagnostic> {
        self.items.sort_by_key(|d| (d.pos, d.code));
        self.items
    }
}

/// Renders a diagnostic for people: `path:line:col: error[code]: message`, then the source line and a caret.
/// How much of a source line a rendered diagnostic shows, and how much of it before the caret.
const SHOWN_LINE: usize = 160;
const SHOWN_BEFORE_CARET: usize = 60;

pub fn render(diagnostic: &Diagnostic, path: &str, source: &str) -> String {
    let severity = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let target = diagnostic.target.map(|t| format!(" ({t})")).unwrap_or_default();
    let Some(pos) = diagnostic.pos else {
        return format!("{path}: {severity}[{}]{target}: {}\n", diagnostic.code, diagnostic.message);
    };
    let mut out = format!(
        "{path}:{}:{}: {severity}[{}]{target}: {}\n",
        pos.line, pos.column, diagnostic.code, diagnostic.message
    );
    if let Some(line) = source.lines().nth(pos.line.saturating_sub(1) as usize) {
        let gutter = pos.line.to_string();
        let pad = " ".repeat(gutter.len());
        // Tabs are shown as one space so the caret stays under the right character. A long line is shown only
        // around the caret (a condition can be thousands of characters long).
        let chars: Vec<char> = line.chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
        let caret = (pos.column.saturating_sub(1) as usize).min(chars.len());
        let from = caret.saturating_sub(SHOWN_BEFORE_CARET);
        let to = chars.len().min(from + SHOWN_LINE);
        let mut shown: String = chars[from..to].iter().collect();
        let mut caret_at = caret - from;
        if from > 0 {
            shown.insert(0, '…');
            caret_at += 1;
        }
        if to < chars.len() {
            shown.push('…');
        }
        out.push_str(&format!("{pad} |\n{gutter} | {shown}\n{pad} | {}^\n", " ".repeat(caret_at)));
    }
    out
}
