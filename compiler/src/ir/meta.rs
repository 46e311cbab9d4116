//! Rule metadata and log sources, as the IR carries them. Rule syntax (`rule::meta`) parses them from YAML.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Status {
    Unsupported,
    Deprecated,
    Experimental,
    Test,
    Stable,
}

impl Status {
    pub fn parse(text: &str) -> Option<Status> {
        Some(match text {
            "stable" => Status::Stable,
            "test" => Status::Test,
            "experimental" => Status::Experimental,
            "deprecated" => Status::Deprecated,
            "unsupported" => Status::Unsupported,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Stable => "stable",
            Status::Test => "test",
            Status::Experimental => "experimental",
            Status::Deprecated => "deprecated",
            Status::Unsupported => "unsupported",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        Some(match text {
            "informational" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

/// A `related:` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Related {
    pub id: String,
    pub kind: String,
}

/// Metadata shared by rules, correlations and filters. Keys Vigil does not interpret are kept in `custom`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub title: String,
    pub id: Option<String>,
    pub name: Option<String>,
    pub status: Option<Status>,
    pub level: Option<Level>,
    pub description: Option<String>,
    pub license: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub modified: Option<String>,
    pub taxonomy: Option<String>,
    pub references: Vec<String>,
    pub tags: Vec<String>,
    pub falsepositives: Vec<String>,
    pub fields: Vec<String>,
    pub scope: Vec<String>,
    pub related: Vec<Related>,
    #[serde(with = "json_text")]
    pub custom: BTreeMap<String, serde_json::Value>,
}

/// `logsource:`: which log a rule reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogSource {
    pub category: Option<String>,
    pub product: Option<String>,
    pub service: Option<String>,
    pub definition: Option<String>,
    pub custom: BTreeMap<String, String>,
}

impl LogSource {
    /// Whether this (rule) log source falls under `spec`: every attribute `spec` sets must be equal here.
    pub fn matches(&self, spec: &LogSource) -> bool {
        fn ok(spec: &Option<String>, mine: &Option<String>) -> bool {
            spec.is_none() || spec == mine
        }
        ok(&spec.category, &self.category) && ok(&spec.product, &self.product) && ok(&spec.service, &self.service)
    }
}

impl std::fmt::Display for LogSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        let attributes = [("category", &self.category), ("product", &self.product), ("service", &self.service)];
        for (name, value) in attributes {
            if let Some(value) = value {
                if !first {
                    f.write_str(" ")?;
                }
                write!(f, "{name}={value}")?;
                first = false;
            }
        }
        for (name, value) in &self.custom {
            write!(f, " {name}={value}")?;
        }
        Ok(())
    }
}

/// A map of JSON values kept as JSON text in the IR's serialised form: the compact binary encoding of the rule-set
/// cache (`compile::cache`) cannot hold a self-describing value, and JSON text keeps keys' order and numbers exactly.
pub(crate) mod json_text {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(map: &BTreeMap<String, serde_json::Value>, out: S) -> Result<S::Ok, S::Error> {
        if map.is_empty() {
            return "".serialize(out);
        }
        serde_json::to_string(map).map_err(serde::ser::Error::custom)?.serialize(out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<BTreeMap<String, serde_json::Value>, D::Error> {
        let text = String::deserialize(input)?;
        if text.is_empty() {
            return Ok(BTreeMap::new());
        }
        serde_json::from_str(&text).map_err(serde::de::Error::custom)
    }
}
