//! Filter (meta) documents: extra conditions applied to the rules they name.

use crate::codes::Code;
use crate::diagnostic::{Diagnostics, Pos};
use crate::ir::meta::{LogSource, Meta};
use crate::rule::detection::NamedDetection;
use crate::rule::meta::{expect_string_list, parse_logsource, parse_meta};
use crate::rule::{parse_detection_block_skipping, ParsedCondition};
use crate::yaml::{Kind, Node};

/// Which rules a filter applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterRules {
    /// `rules: any`, or an empty list.
    Any,
    /// Rule ids or names.
    Named(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct SigmaFilter {
    pub meta: Meta,
    pub logsource: LogSource,
    pub rules: FilterRules,
    pub detections: Vec<NamedDetection>,
    pub conditions: Vec<ParsedCondition>,
    pub pos: Pos,
}

pub fn parse_filter(root: &Node<'_>, diags: &mut Diagnostics) -> Option<SigmaFilter> {
    let meta = parse_meta(root, &["logsource", "filter"], diags);
    let logsource = parse_logsource(root, diags);
    let (block_key, block) = root.entry("filter")?;
    let rules = match block.get("rules") {
        None => {
            diags.error(Code::InvalidFilter, block.pos, "a filter needs `rules`: rule ids or names, or `any`");
            None
        }
        Some(node) => match &node.kind {
            Kind::Str(s) if s == "any" => Some(FilterRules::Any),
            Kind::Seq(items) if items.is_empty() => Some(FilterRules::Any),
            _ => Some(FilterRules::Named(expect_string_list(node, "rules", diags))),
        },
    };
    let block = parse_detection_block_skipping(block, block_key.pos, "filter", &["rules"], diags);
    let (detections, conditions) = block?;
    if diags.has_errors() {
        return None;
    }
    Some(SigmaFilter { meta, logsource: logsource?, rules: rules?, detections, conditions, pos: root.pos })
}
