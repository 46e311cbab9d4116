//! An open Sigma file as the editor sees it: positions in LSP's UTF-16 columns, the document (between `---` lines)
//! holding a line, the top-level key a line is under, and the detections of that document with where they are.

use lsp_types::{Position, Range};

/// The text of an open file.
pub struct Text<'t> {
    lines: Vec<&'t str>,
}

impl<'t> Text<'t> {
    pub fn new(text: &'t str) -> Self {
        Text { lines: text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect() }
    }

    pub fn line(&self, line: usize) -> &'t str {
        self.lines.get(line).copied().unwrap_or("")
    }

    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// A character index on a line -> LSP's UTF-16 column.
    pub fn utf16_column(&self, line: usize, chars: usize) -> u32 {
        self.line(line).chars().take(chars).map(char::len_utf16).sum::<usize>() as u32
    }

    /// LSP's UTF-16 column -> the byte offset on the line (clamped to the line).
    pub fn byte_at(&self, position: Position) -> usize {
        let line = self.line(position.line as usize);
        let mut units = 0;
        for (byte, c) in line.char_indices() {
            if units >= position.character as usize {
                return byte;
            }
            units += c.len_utf16();
        }
        line.len()
    }

    /// The range of the token starting at a 1-based (line, character column) position: to the next space, `:`,
    /// `,`, `]` or `}` (a key, a value, a word of a condition).
    pub fn token_range(&self, line: u32, column: u32) -> Range {
        let index = line.saturating_sub(1) as usize;
        let start = column.saturating_sub(1) as usize;
        let text = self.line(index);
        let length = text
            .chars()
            .skip(start)
            .take_while(|c| !c.is_whitespace() && !matches!(c, ':' | ',' | ']' | '}'))
            .count()
            .max(1);
        Range::new(
            Position::new(index as u32, self.utf16_column(index, start)),
            Position::new(index as u32, self.utf16_column(index, start + length)),
        )
    }

    /// The lines of the document holding `line`: (first line, one past the last), between `---` lines.
    pub fn document_of(&self, line: usize) -> (usize, usize) {
        let is_separator = |l: &str| l == "---" || l.starts_with("--- ");
        let start = (0..=line.min(self.lines.len().saturating_sub(1)))
            .rev()
            .find(|&i| is_separator(self.line(i)))
            .map_or(0, |i| i + 1);
        let end = (line + 1..self.lines.len()).find(|&i| is_separator(self.line(i))).unwrap_or(self.lines.len());
        (start, end)
    }

    /// The top-level key `line` is under (the nearest key at the left margin above it, itself included).
    pub fn section_of(&self, line: usize) -> Option<&'t str> {
        let (start, _) = self.document_of(line);
        (start..=line).rev().map(|i| self.line(i)).find_map(|l| {
            let first = l.chars().next()?;
            if first.is_whitespace() || first == '#' || first == '-' {
                return None;
            }
            l.split_once(':').map(|(key, _)| key.trim())
        })
    }

    /// The value of `logsource.<key>` in the document holding `line`.
    pub fn logsource_value(&self, line: usize, key: &str) -> Option<&'t str> {
        let (start, end) = self.document_of(line);
        let mut inside = false;
        for i in start..end {
            let l = self.line(i);
            if !l.starts_with(' ') && !l.trim().is_empty() && !l.starts_with('#') {
                inside = l.starts_with("logsource:");
                continue;
            }
            if inside {
                if let Some((k, v)) = l.trim().split_once(':') {
                    if k.trim() == key {
                        return Some(v.trim().trim_matches(['\'', '"']));
                    }
                }
            }
        }
        None
    }

    /// The detections of the document holding `line` (the keys directly under `detection:` other than `condition`
    /// and `timeframe`), with the line each is on and its column.
    pub fn detections(&self, line: usize) -> Vec<(&'t str, usize, usize)> {
        let (start, end) = self.document_of(line);
        let mut out = Vec::new();
        let mut inside = false;
        let mut indent = None;
        for i in start..end {
            let l = self.line(i);
            let trimmed = l.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let width = l.len() - trimmed.len();
            if width == 0 {
                inside = l.starts_with("detection:") || l.starts_with("filter:");
                indent = None;
                continue;
            }
            if !inside || *indent.get_or_insert(width) != width {
                continue;
            }
            if let Some((key, _)) = trimmed.split_once(':') {
                let key = key.trim().trim_matches(['\'', '"']);
                if !matches!(key, "condition" | "timeframe" | "rules") {
                    out.push((key, i, width));
                }
            }
        }
        out
    }
}

/// A file URI's path (`file:///a%20b/x.yml` -> `/a b/x.yml`), percent-decoded.
pub fn uri_path(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(byte) =
                std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_sections_and_detections() {
        let text = Text::new(
            "title: A\nlogsource:\n    category: process_creation\ndetection:\n    sel:\n        Image: x\n    filter_a:\n        User: y\n    condition: sel and not filter_a\n---\ntitle: B\n",
        );
        assert_eq!(text.document_of(5), (0, 9));
        assert_eq!(text.document_of(10), (10, 12), "the empty line after the last newline included");
        assert_eq!(text.section_of(5), Some("detection"));
        assert_eq!(text.logsource_value(5, "category"), Some("process_creation"));
        let names: Vec<&str> = text.detections(8).into_iter().map(|(n, _, _)| n).collect();
        assert_eq!(names, vec!["sel", "filter_a"]);
        assert_eq!(uri_path("file:///tmp/a%20b.yml").as_deref(), Some("/tmp/a b.yml"));
    }

    #[test]
    fn utf16_columns() {
        let text = Text::new("title: é𝄞x\n");
        assert_eq!(text.utf16_column(0, 9), 10);
        assert_eq!(text.byte_at(Position::new(0, 10)), "title: é𝄞".len());
    }
}
