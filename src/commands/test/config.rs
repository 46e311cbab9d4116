//! `vigil.yml` (or `.vigil.yml`): what `vigil test` snapshots for the rules beside it and below it, and which
//! conventions `vigil check` holds them to.
//!
//! ```yaml
//! snapshots:
//!   pipelines: [sysmon, windows]          # applied for every target unless it names its own
//!   targets:
//!     - splunk                            # a target name, default format
//!     - {target: splunk, format: savedsearches}
//!     - {target: spark, pipelines: [sysmon, windows, helk]}
//!   directory: __snapshots__              # beside each rule file (the default)
//! fixtures:
//!   routing: true                         # the sysmon and windows pipelines before matching (the default)
//!   sql: false                            # also run fixtures through their SQL on SQLite
//! check:
//!   validators: sigmahq                   # the default of --validators
//!   exclude: [sigmahq-status-to-high]     # codes never reported
//!   exclusions:                           # rule id or file name -> codes it is excused from
//!     5f4b6a2e-0000-4000-8000-000000000000: [sigmahq-title-case]
//!     proc_creation_win_example.yml: [sigmahq-filename-convention]
//! ```

use std::path::{Path, PathBuf};
use vigil_compiler::backend::Target;

pub const NAMES: [&str; 2] = ["vigil.yml", ".vigil.yml"];

/// One conversion to snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotTarget {
    pub target: Target,
    pub format: String,
    pub pipelines: Vec<String>,
}

impl SnapshotTarget {
    /// The snapshot file's suffix: the target, and the format when it is not the default.
    pub fn suffix(&self) -> String {
        if self.format == "default" {
            self.target.name().to_string()
        } else {
            format!("{}-{}", self.target.name(), self.format)
        }
    }

    /// The command that produces the snapshot, for its header and for people.
    pub fn command(&self) -> String {
        let mut out = format!("vigil convert -t {}", self.target.name());
        if self.format != "default" {
            out.push_str(&format!(" -f {}", self.format));
        }
        for p in &self.pipelines {
            out.push_str(&format!(" -p {p}"));
        }
        out
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub targets: Vec<SnapshotTarget>,
    pub directory: String,
    pub routing: bool,
    pub sql: bool,
    pub check: CheckConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            targets: Vec::new(),
            directory: "__snapshots__".into(),
            routing: true,
            sql: false,
            check: CheckConfig::default(),
        }
    }
}

/// `check:`: the conventions `vigil check` applies to the rules under the file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckConfig {
    /// The default of `--validators`.
    pub validators: Option<String>,
    /// Codes (or pySigma validator names) never reported.
    pub exclude: Vec<String>,
    /// Rule id or file name -> codes it is excused from.
    pub exclusions: Vec<(String, Vec<String>)>,
}

fn parse_check(section: &serde_yaml::Value) -> Result<CheckConfig, String> {
    let mut config = CheckConfig::default();
    let Some(map) = section.as_mapping() else { return Err("check: a mapping".into()) };
    for key in map.keys() {
        let key = key.as_str().unwrap_or("");
        if !matches!(key, "validators" | "exclude" | "exclusions") {
            return Err(format!("check: unknown key `{key}` (expected `validators`, `exclude`, `exclusions`)"));
        }
    }
    config.validators = match section.get("validators") {
        None => None,
        Some(serde_yaml::Value::String(s)) => Some(s.clone()),
        Some(list @ serde_yaml::Value::Sequence(_)) => Some(strings(Some(list), "check.validators")?.join(",")),
        Some(_) => return Err("check.validators: a set name or a list of them".into()),
    };
    config.exclude = strings(section.get("exclude"), "check.exclude")?;
    if let Some(exclusions) = section.get("exclusions") {
        let map = exclusions.as_mapping().ok_or("check.exclusions: a mapping of rule id or file name to codes")?;
        for (key, codes) in map {
            let key = key.as_str().ok_or("check.exclusions: keys are rule ids or file names")?;
            config.exclusions.push((key.to_string(), strings(Some(codes), "check.exclusions")?));
        }
    }
    Ok(config)
}

fn strings(value: Option<&serde_yaml::Value>, what: &str) -> Result<Vec<String>, String> {
    match value {
        None => Ok(Vec::new()),
        Some(serde_yaml::Value::Sequence(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string).ok_or_else(|| format!("{what}: a list of names")))
            .collect(),
        Some(_) => Err(format!("{what}: a list of names")),
    }
}

/// Parses a config file's text.
pub fn parse(text: &str) -> Result<Config, String> {
    let root: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    let mut config = Config::default();

    let Some(map) = root.as_mapping() else {
        return if root.is_null() { Ok(config) } else { Err("expected a mapping".into()) };
    };
    for key in map.keys() {
        let key = key.as_str().unwrap_or("");
        if !matches!(key, "snapshots" | "fixtures" | "check") {
            return Err(format!("unknown key `{key}` (expected `snapshots`, `fixtures`, `check`)"));
        }
    }
    if let Some(snapshots) = root.get("snapshots") {
        for key in snapshots.as_mapping().map(|m| m.keys().collect::<Vec<_>>()).unwrap_or_default() {
            let key = key.as_str().unwrap_or("");
            if !matches!(key, "pipelines" | "targets" | "directory") {
                return Err(format!("snapshots: unknown key `{key}` (expected `pipelines`, `targets`, `directory`)"));
            }
        }
        let pipelines = strings(snapshots.get("pipelines"), "snapshots.pipelines")?;
        if let Some(directory) = snapshots.get("directory") {
            config.directory = directory.as_str().ok_or("snapshots.directory: a folder name")?.to_string();
        }
        let targets = match snapshots.get("targets") {
            None => Vec::new(),
            Some(serde_yaml::Value::String(s)) if s == "all" => {
                Target::ALL.iter().map(|t| serde_yaml::Value::String(t.name().into())).collect()
            }
            Some(serde_yaml::Value::Sequence(items)) => items.clone(),
            Some(_) => return Err("snapshots.targets: a list, or `all`".into()),
        };
        for item in targets {
            let (name, format, own) = match &item {
                serde_yaml::Value::String(name) => (name.clone(), "default".to_string(), None),
                serde_yaml::Value::Mapping(_) => {
                    let name =
                        item.get("target").and_then(|t| t.as_str()).ok_or("snapshots.targets: `target` missing")?;
                    let format = item.get("format").and_then(|f| f.as_str()).unwrap_or("default");
                    let own = item.get("pipelines").map(|p| strings(Some(p), "snapshots.targets.pipelines"));
                    (name.to_string(), format.to_string(), own.transpose()?)
                }
                _ => return Err("snapshots.targets: a target name or {target, format, pipelines}".into()),
            };
            let target =
                Target::parse(&name).ok_or_else(|| format!("unknown target `{name}` (see `vigil list targets`)"))?;
            if !target.formats().iter().any(|(f, _)| *f == format) {
                return Err(format!("{name} has no format `{format}` (see `vigil list formats -t {name}`)"));
            }
            config.targets.push(SnapshotTarget { target, format, pipelines: own.unwrap_or_else(|| pipelines.clone()) });
        }
    }
    if let Some(check) = root.get("check") {
        config.check = parse_check(check)?;
    }
    if let Some(fixtures) = root.get("fixtures") {
        if let Some(routing) = fixtures.get("routing") {
            config.routing = routing.as_bool().ok_or("fixtures.routing: true or false")?;
        }
        if let Some(sql) = fixtures.get("sql") {
            config.sql = sql.as_bool().ok_or("fixtures.sql: true or false")?;
        }
    }
    Ok(config)
}

/// The config that governs `path`: the nearest `vigil.yml` in its folder or above.
pub fn find(path: &Path) -> Option<PathBuf> {
    let start = if path.is_dir() { path.to_path_buf() } else { path.parent()?.to_path_buf() };
    let start = std::fs::canonicalize(&start).unwrap_or(start);
    start.ancestors().find_map(|dir| NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file()))
}
