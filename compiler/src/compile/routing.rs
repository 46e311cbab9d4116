//! Log-source routing: the pipelines that let SigmaHQ rules read Windows logs as they are, defined once. A rule of
//! a generic Windows category is read from Sysmon (the `sysmon` pipeline: EventID, then the Sysmon channel by the
//! `windows` pipeline) and, where the Security log records the same activity, from Windows Security too (the
//! `windows-audit` pipeline: 4688 for process creation, 4657 for registry events, with the Security log's field
//! names): the rule then matches either source, in the same run.
//!
//! Pipelines the user names win: `-p windows-audit` reads such rules from Security only, `-p sysmon` from Sysmon
//! only, and a routing pipeline given again is not applied twice.

use super::Settings;
use crate::diagnostic::Diagnostic;
use crate::pipeline::{PipelineOptions, PipelineSet};
use crate::rule::SigmaRule;

/// The source every routed rule is read from: Sysmon, and the channels of the Windows services.
pub const PRIMARY: &[&str] = &["sysmon", "windows"];

/// Other sources: (the pipeline that claims a rule for the source, the pipelines that read it from there).
pub const ALTERNATIVES: &[(&str, &[&str])] = &[("windows-audit", &["windows-audit", "windows"])];

/// Another source a rule may be read from, beside the primary pipelines.
#[derive(Clone, Debug)]
pub struct Alternative {
    /// The pipelines that read a rule from this source (the user's among them).
    pub pipelines: PipelineSet,
    /// The origin of the pipeline whose items must apply to a rule for this source to be used.
    pub claims: String,
}

impl Alternative {
    /// Whether the source's claiming pipeline could claim `rule` as written (cheap, before compiling a copy).
    pub(super) fn may_claim(&self, rule: &SigmaRule) -> bool {
        self.pipelines.may_claim(&self.claims, rule)
    }

    /// Whether the source's claiming pipeline transformed a rule whose applied items are `applied`.
    pub(super) fn claimed(&self, applied: &[String]) -> bool {
        self.pipelines
            .claiming_items(&self.claims)
            .filter_map(|item| item.id.as_deref())
            .any(|id| applied.iter().any(|a| a == id))
    }
}

/// The settings for `-p` arguments (built-in names or pipeline files), with routing when `routing` is set.
pub fn resolve(
    specs: &[String],
    routing: bool,
    options: PipelineOptions,
) -> Result<Settings, Vec<(String, Diagnostic)>> {
    let chosen = |name: &str| specs.iter().any(|s| s == name);
    let sources: Vec<&str> =
        std::iter::once(PRIMARY[0]).chain(ALTERNATIVES.iter().map(|(claims, _)| *claims)).collect();
    let user_chose_a_source = sources.iter().any(|s| chosen(s));
    let with_user = |routes: &[&str]| -> Vec<String> {
        let mut all: Vec<String> = routes.iter().filter(|r| !chosen(r)).map(|r| r.to_string()).collect();
        all.extend(specs.iter().cloned());
        all
    };
    if !routing || user_chose_a_source {
        // No routing, or the user named the source: the routing pipelines they did not name except the other
        // sources' (the channels).
        let routes: Vec<&str> = if routing { vec!["windows"] } else { Vec::new() };
        let pipelines = PipelineSet::resolve(&with_user(&routes), options)?;
        return Ok(Settings::new(pipelines));
    }
    let pipelines = PipelineSet::resolve(&with_user(PRIMARY), options)?;
    let mut settings = Settings::new(pipelines);
    for (claims, routes) in ALTERNATIVES {
        let pipelines = PipelineSet::resolve(&with_user(routes), options)?;
        settings.alternatives.push(Alternative { pipelines, claims: claims.to_string() });
    }
    Ok(settings)
}
