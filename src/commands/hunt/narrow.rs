//! Narrowing a hunt: which rules run (`--min-level`, `--status`, `--tags`, `--exclude-tags`, `--rule`,
//! `--exclude-rule`) and which detections are reported (`--from`, `--to`: event time, inclusive).

use crate::cli::NarrowArgs;
use globset::{Glob, GlobMatcher};
use vigil_compiler::ir::meta::{Level, Meta, Status};

/// Which rules a hunt runs, from the command line.
pub struct RuleSelection {
    min_level: Option<Level>,
    statuses: Vec<Status>,
    tags: Vec<GlobMatcher>,
    exclude_tags: Vec<GlobMatcher>,
    rules: Vec<RulePattern>,
    exclude_rules: Vec<RulePattern>,
}

/// `--rule`: an id (exactly, any case) or a title glob (any case).
struct RulePattern {
    text: String,
    title: GlobMatcher,
}

impl RulePattern {
    fn admits(&self, meta: &Meta) -> bool {
        meta.id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(&self.text))
            || meta.name.as_deref().is_some_and(|name| name == self.text)
            || self.title.is_match(meta.title.to_lowercase())
    }
}

fn glob(text: &str, flag: &str) -> Result<GlobMatcher, String> {
    Glob::new(&text.to_lowercase()).map(|g| g.compile_matcher()).map_err(|e| format!("{flag} {text}: {e}"))
}

/// The statuses a hunt loads when `--status` is not given: all but deprecated and unsupported.
const DEFAULT_STATUSES: [Status; 3] = [Status::Experimental, Status::Test, Status::Stable];

impl RuleSelection {
    pub fn new(args: &NarrowArgs) -> Result<RuleSelection, String> {
        let min_level = match &args.min_level {
            Some(text) => Some(Level::parse(&text.to_lowercase()).ok_or_else(|| {
                format!("--min-level {text}: not a level (informational, low, medium, high, critical)")
            })?),
            None => None,
        };
        let statuses = if args.status.is_empty() {
            DEFAULT_STATUSES.to_vec()
        } else {
            let parse = |text: &String| {
                Status::parse(&text.to_lowercase()).ok_or_else(|| {
                    format!("--status {text}: not a status (stable, test, experimental, deprecated, unsupported)")
                })
            };
            args.status.iter().map(parse).collect::<Result<_, _>>()?
        };
        let globs = |texts: &[String], flag: &str| texts.iter().map(|t| glob(t, flag)).collect::<Result<Vec<_>, _>>();
        let patterns = |texts: &[String], flag: &str| {
            texts
                .iter()
                .map(|t| Ok(RulePattern { text: t.clone(), title: glob(t, flag)? }))
                .collect::<Result<Vec<_>, String>>()
        };
        Ok(RuleSelection {
            min_level,
            statuses,
            tags: globs(&args.tags, "--tags")?,
            exclude_tags: globs(&args.exclude_tags, "--exclude-tags")?,
            rules: patterns(&args.rule, "--rule")?,
            exclude_rules: patterns(&args.exclude_rule, "--exclude-rule")?,
        })
    }

    /// Whether a rule (or correlation) with this metadata runs and is reported. A rule without a status runs
    /// whatever `--status` says; a rule without a level is below every `--min-level`.
    pub fn admits(&self, meta: &Meta) -> bool {
        let tag = |g: &GlobMatcher| meta.tags.iter().any(|t| g.is_match(t.to_lowercase()));
        self.min_level.is_none_or(|min| meta.level.is_some_and(|l| l >= min))
            && meta.status.is_none_or(|s| self.statuses.contains(&s))
            && (self.tags.is_empty() || self.tags.iter().any(tag))
            && !self.exclude_tags.iter().any(tag)
            && (self.rules.is_empty() || self.rules.iter().any(|p| p.admits(meta)))
            && !self.exclude_rules.iter().any(|p| p.admits(meta))
    }

    /// The flags that narrowed the rules, for the summary (`--min-level high, --tags`).
    pub fn describe(&self, args: &NarrowArgs) -> String {
        let mut flags = Vec::new();
        if let Some(level) = self.min_level {
            flags.push(format!("--min-level {}", level.as_str()));
        }
        let given = [
            (!args.status.is_empty(), "--status"),
            (!args.tags.is_empty(), "--tags"),
            (!args.exclude_tags.is_empty(), "--exclude-tags"),
            (!args.rule.is_empty(), "--rule"),
            (!args.exclude_rule.is_empty(), "--exclude-rule"),
        ];
        flags.extend(given.iter().filter(|(on, _)| *on).map(|(_, flag)| flag.to_string()));
        if flags.is_empty() {
            "status deprecated or unsupported".to_string()
        } else {
            flags.join(", ")
        }
    }
}

/// `--from` / `--to`: the event times (milliseconds since the epoch) whose detections are reported, inclusive.
#[derive(Clone, Copy, Debug)]
pub struct TimeRange {
    from: i64,
    to: i64,
}

impl TimeRange {
    /// `None` when neither bound is given. A bare date is its first millisecond for `--from` and its last for
    /// `--to`, so `--from 2020-09-04 --to 2020-09-04` is that whole day (UTC).
    pub fn new(from: Option<&str>, to: Option<&str>) -> Result<Option<TimeRange>, String> {
        if from.is_none() && to.is_none() {
            return Ok(None);
        }
        let bound = |text: &str, flag: &str, end_of_day: bool| -> Result<i64, String> {
            let text = text.trim();
            let is_date = text.len() == 10 && text.as_bytes().get(4) == Some(&b'-');
            let full = if is_date {
                format!("{text}T{}", if end_of_day { "23:59:59.999Z" } else { "00:00:00Z" })
            } else {
                text.to_string()
            };
            vigil_runtime::time::millis(&full).ok_or_else(|| {
                format!(
                    "{flag} {text}: not a time (RFC 3339 such as 2020-09-04T07:30:16Z, or a date such as 2020-09-04)"
                )
            })
        };
        let range = TimeRange {
            from: from.map(|t| bound(t, "--from", false)).transpose()?.unwrap_or(i64::MIN),
            to: to.map(|t| bound(t, "--to", true)).transpose()?.unwrap_or(i64::MAX),
        };
        if range.from > range.to {
            return Err("--from is after --to: no event could be reported".to_string());
        }
        Ok(Some(range))
    }

    /// Whether an event at `millis` is reported; an event without a readable time is not.
    pub fn contains(&self, millis: Option<i64>) -> bool {
        millis.is_some_and(|m| self.from <= m && m <= self.to)
    }

    /// The first and last millisecond of the range.
    pub fn bounds(&self) -> (i64, i64) {
        (self.from, self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selection(args: NarrowArgs) -> RuleSelection {
        RuleSelection::new(&args).expect("valid")
    }

    fn meta(title: &str, level: Option<Level>, status: Option<Status>, tags: &[&str]) -> Meta {
        Meta {
            title: title.into(),
            id: Some("30fc055c-5bb3-4cff-9ac4-713632adc935".into()),
            level,
            status,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Meta::default()
        }
    }

    #[test]
    fn levels_statuses_tags_and_rules() {
        let high = meta("WMI Modules Loaded", Some(Level::High), Some(Status::Test), &["attack.execution"]);
        let low = meta("Other", Some(Level::Low), None, &["attack.t1047"]);
        let min_high = selection(NarrowArgs { min_level: Some("High".into()), ..NarrowArgs::default() });
        assert!(min_high.admits(&high) && !min_high.admits(&low));
        assert!(!min_high.admits(&meta("No level", None, None, &[])));
        let default = selection(NarrowArgs::default());
        assert!(default.admits(&high) && default.admits(&low));
        assert!(!default.admits(&meta("Old", None, Some(Status::Deprecated), &[])));
        let tags = selection(NarrowArgs { tags: vec!["attack.t10*".into()], ..NarrowArgs::default() });
        assert!(!tags.admits(&high) && tags.admits(&low));
        let exclude = selection(NarrowArgs { exclude_tags: vec!["ATTACK.EXECUTION".into()], ..NarrowArgs::default() });
        assert!(!exclude.admits(&high) && exclude.admits(&low));
        let by_title = selection(NarrowArgs { rule: vec!["*wmi*".into()], ..NarrowArgs::default() });
        assert!(by_title.admits(&high) && !by_title.admits(&low));
        let by_id = selection(NarrowArgs {
            exclude_rule: vec!["30FC055C-5BB3-4CFF-9AC4-713632ADC935".into()],
            ..NarrowArgs::default()
        });
        assert!(!by_id.admits(&high));
        assert!(RuleSelection::new(&NarrowArgs { min_level: Some("severe".into()), ..NarrowArgs::default() }).is_err());
        assert!(RuleSelection::new(&NarrowArgs { status: vec!["beta".into()], ..NarrowArgs::default() }).is_err());
    }

    #[test]
    fn time_ranges_are_inclusive_and_dates_cover_their_day() {
        let day = TimeRange::new(Some("2020-09-04"), Some("2020-09-04")).expect("valid").expect("a range");
        let at = |t: &str| vigil_runtime::time::millis(t);
        assert!(day.contains(at("2020-09-04T00:00:00Z")));
        assert!(day.contains(at("2020-09-04T23:59:59.999Z")));
        assert!(!day.contains(at("2020-09-05T00:00:00Z")));
        assert!(!day.contains(None));
        let from = TimeRange::new(Some("2020-09-04T07:30:16Z"), None).expect("valid").expect("a range");
        assert!(from.contains(at("2020-09-04T07:30:16Z")) && !from.contains(at("2020-09-04T07:30:15.999Z")));
        assert!(TimeRange::new(None, None).expect("valid").is_none());
        assert!(TimeRange::new(Some("yesterday"), None).is_err());
        assert!(TimeRange::new(Some("2020-09-05"), Some("2020-09-04")).is_err());
    }
}
