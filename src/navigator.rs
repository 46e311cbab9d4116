//! ATT&CK Navigator layers (layer format 4.5, domain `enterprise-attack`): techniques scored by how many
//! detections (`vigil hunt --navigator`) or rules (`vigil coverage --navigator`) name them.

use serde_json::json;
use std::collections::BTreeMap;

/// The technique a Sigma tag names: `attack.t1059.001` is `T1059.001`; other tags name none.
pub use vigil_compiler::backend::deploy::attack::technique;

/// Adds `count` to every technique the tags name (each technique once per rule).
pub fn add(scores: &mut BTreeMap<String, u64>, tags: &[String], count: u64) {
    let mut techniques: Vec<String> = tags.iter().filter_map(|t| technique(t)).collect();
    techniques.sort();
    techniques.dedup();
    for t in techniques {
        *scores.entry(t).or_default() += count;
    }
}

/// A layer scoring `scores` (technique -> score); `what` says what a score counts, for the comments.
pub fn layer(name: &str, description: &str, scores: &BTreeMap<String, u64>, what: &str) -> serde_json::Value {
    let max = scores.values().copied().max().unwrap_or(1);
    let techniques: Vec<serde_json::Value> = scores
        .iter()
        .map(|(id, score)| {
            json!({"techniqueID": id, "score": score, "comment": format!("{score} {what}"), "enabled": true})
        })
        .collect();
    json!({
        "name": name,
        "versions": {"layer": "4.5", "navigator": "5.1.0", "attack": "16"},
        "domain": "enterprise-attack",
        "description": description,
        "sorting": 3,
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": {"colors": ["#ffe766ff", "#ff6666ff"], "minValue": 0, "maxValue": max},
        "legendItems": [],
        "metadata": [],
        "showTacticRowBackground": false,
        "selectTechniquesAcrossTactics": true,
        "selectSubtechniquesWithParent": false,
    })
}

/// Writes a layer to `path`; the exit status of a failed write on error.
pub fn write(path: &std::path::Path, layer: &serde_json::Value) -> Result<(), u8> {
    std::fs::write(path, format!("{layer:#}\n")).map_err(|e| crate::output::failed(&e, Some(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tags are read by `attack::technique` (tested there); a layer scores each technique once per rule.
    #[test]
    fn layers_score_techniques() {
        let mut scores = BTreeMap::new();
        add(&mut scores, &["attack.t1047".into(), "attack.t1047".into(), "attack.execution".into()], 6);
        assert_eq!(scores.get("T1047"), Some(&6));
        let layer = layer("Vigil hunt", "test", &scores, "detections");
        assert_eq!(layer["versions"]["layer"], "4.5");
        assert_eq!(layer["domain"], "enterprise-attack");
        assert_eq!(layer["techniques"][0]["techniqueID"], "T1047");
        assert_eq!(layer["techniques"][0]["score"], 6);
    }
}
