//! MITRE ATT&CK as Sigma tags name it: `attack.<tactic>` and `attack.t<NNNN>[.<NNN>]`, read into the tactics and
//! techniques the SIEM rule formats carry (Elastic's `threat`, Sentinel's `tactics` and `relevantTechniques`,
//! Defender's `mitreTechniques`).
//!
//! Vigil ships the fourteen Enterprise tactics (ids and names are fixed by ATT&CK) but not the ~800 technique
//! names: no maintained crate carries them and pySigma downloads them at run time. Where a format needs a
//! technique's name (Elastic's `threat.technique.name`), the id stands for it. Which tactic a technique belongs to
//! is read from the order of the tags, as SigmaHQ writes them (`attack.execution`, `attack.t1047`): a technique
//! goes with the nearest tactic tag before it, or the first tactic when none comes before (compiler/DESIGN.md,
//! "Deployable formats").

/// An ATT&CK Enterprise tactic.
#[derive(Debug, PartialEq, Eq)]
pub struct Tactic {
    /// `TA0002`.
    pub id: &'static str,
    /// The Sigma tag's name: `execution` in `attack.execution`.
    pub tag: &'static str,
    /// `Execution`, `Command and Control`.
    pub name: &'static str,
}

impl Tactic {
    /// `https://attack.mitre.org/tactics/TA0002/`.
    pub fn reference(&self) -> String {
        format!("https://attack.mitre.org/tactics/{}/", self.id)
    }

    /// The name without spaces, each word capitalised, as Microsoft Sentinel and Defender XDR spell tactics:
    /// `CommandAndControl`.
    pub fn pascal_name(&self) -> String {
        let mut out = String::new();
        for word in self.name.split(' ') {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        }
        out
    }
}

/// The Enterprise tactics, in the kill chain's order.
pub const TACTICS: [Tactic; 14] = [
    Tactic { id: "TA0043", tag: "reconnaissance", name: "Reconnaissance" },
    Tactic { id: "TA0042", tag: "resource_development", name: "Resource Development" },
    Tactic { id: "TA0001", tag: "initial_access", name: "Initial Access" },
    Tactic { id: "TA0002", tag: "execution", name: "Execution" },
    Tactic { id: "TA0003", tag: "persistence", name: "Persistence" },
    Tactic { id: "TA0004", tag: "privilege_escalation", name: "Privilege Escalation" },
    Tactic { id: "TA0005", tag: "defense_evasion", name: "Defense Evasion" },
    Tactic { id: "TA0006", tag: "credential_access", name: "Credential Access" },
    Tactic { id: "TA0007", tag: "discovery", name: "Discovery" },
    Tactic { id: "TA0008", tag: "lateral_movement", name: "Lateral Movement" },
    Tactic { id: "TA0009", tag: "collection", name: "Collection" },
    Tactic { id: "TA0011", tag: "command_and_control", name: "Command and Control" },
    Tactic { id: "TA0010", tag: "exfiltration", name: "Exfiltration" },
    Tactic { id: "TA0040", tag: "impact", name: "Impact" },
];

/// The tactic a tag names: `attack.defense_evasion` (also `attack.defense-evasion`, any case).
pub fn tactic(tag: &str) -> Option<&'static Tactic> {
    let name = tag.get(..7).filter(|p| p.eq_ignore_ascii_case("attack."))?;
    let name = tag[name.len()..].to_ascii_lowercase().replace('-', "_");
    TACTICS.iter().find(|t| t.tag == name)
}

/// The technique a tag names: `attack.t1059.001` is `T1059.001`; other tags name none.
pub fn technique(tag: &str) -> Option<String> {
    let id = tag.get(..7).filter(|p| p.eq_ignore_ascii_case("attack.")).map(|p| &tag[p.len()..])?;
    let (base, sub) = match id.split_once('.') {
        Some((base, sub)) => (base, Some(sub)),
        None => (id, None),
    };
    let digits = base.strip_prefix(['t', 'T'])?;
    let valid = |d: &str, n: usize| d.len() == n && d.bytes().all(|b| b.is_ascii_digit());
    if !valid(digits, 4) || sub.is_some_and(|s| !valid(s, 3)) {
        return None;
    }
    Some(match sub {
        Some(sub) => format!("T{digits}.{sub}"),
        None => format!("T{digits}"),
    })
}

/// `https://attack.mitre.org/techniques/T1059/001/`.
pub fn technique_reference(id: &str) -> String {
    format!("https://attack.mitre.org/techniques/{}/", id.replace('.', "/"))
}

/// The tactics the tags name, each once, in the tags' order.
pub fn tactics(tags: &[String]) -> Vec<&'static Tactic> {
    let mut out: Vec<&'static Tactic> = Vec::new();
    for t in tags.iter().filter_map(|t| tactic(t)) {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// The techniques and sub-techniques the tags name, each once, in the tags' order.
pub fn techniques(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags.iter().filter_map(|t| technique(t)) {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// A technique under a tactic, with the sub-techniques the rule names.
#[derive(Debug, PartialEq, Eq)]
pub struct Technique {
    /// `T1059`.
    pub id: String,
    /// `T1059.001`, ...
    pub subtechniques: Vec<String>,
}

/// A tactic with the techniques the rule names for it.
#[derive(Debug, PartialEq, Eq)]
pub struct Threat {
    pub tactic: &'static Tactic,
    pub techniques: Vec<Technique>,
}

/// The rule's tactics, each with its techniques: a technique goes with the nearest tactic tag before it (the
/// first tactic when none comes before); a sub-technique goes under its technique. Techniques of a rule that names
/// no tactic are left out (a threat entry needs its tactic).
pub fn threats(tags: &[String]) -> Vec<Threat> {
    let mut threats: Vec<Threat> = Vec::new();
    let mut current: Option<usize> = None;
    let mut before_any_tactic: Vec<String> = Vec::new();
    for tag in tags {
        if let Some(t) = tactic(tag) {
            let at = threats.iter().position(|x| x.tactic == t).unwrap_or_else(|| {
                threats.push(Threat { tactic: t, techniques: Vec::new() });
                threats.len() - 1
            });
            current = Some(at);
        } else if let Some(id) = technique(tag) {
            match current {
                Some(at) => add_technique(&mut threats[at].techniques, id),
                None => before_any_tactic.push(id),
            }
        }
    }
    if let Some(first) = threats.first_mut() {
        for id in before_any_tactic {
            add_technique(&mut first.techniques, id);
        }
    }
    threats
}

fn add_technique(techniques: &mut Vec<Technique>, id: String) {
    let (base, sub) = match id.split_once('.') {
        Some((base, _)) => (base.to_string(), Some(id.clone())),
        None => (id.clone(), None),
    };
    let at = techniques.iter().position(|t| t.id == base).unwrap_or_else(|| {
        techniques.push(Technique { id: base, subtechniques: Vec::new() });
        techniques.len() - 1
    });
    if let Some(sub) = sub {
        if !techniques[at].subtechniques.contains(&sub) {
            techniques[at].subtechniques.push(sub);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn tags_name_tactics_and_techniques() {
        assert_eq!(technique("attack.t1047").as_deref(), Some("T1047"));
        assert_eq!(technique("attack.T1059.001").as_deref(), Some("T1059.001"));
        assert_eq!(technique("attack.execution"), None);
        assert_eq!(technique("attack.t10"), None);
        assert_eq!(technique("attack.g0016"), None);
        assert_eq!(technique("cve.2021-44228"), None);
        assert_eq!(tactic("attack.defense-evasion").map(|t| t.id), Some("TA0005"));
        assert_eq!(tactic("attack.Command_And_Control").map(|t| t.pascal_name()), Some("CommandAndControl".into()));
        assert_eq!(tactic("attack.t1047"), None);
        assert_eq!(technique_reference("T1218.011"), "https://attack.mitre.org/techniques/T1218/011/");
    }

    #[test]
    fn techniques_go_with_the_tactic_before_them() {
        let threats = threats(&tags(&[
            "attack.t1027",
            "attack.execution",
            "attack.t1047",
            "attack.defense_evasion",
            "attack.t1218.011",
            "attack.t1218.010",
            "attack.t1218",
            "attack.s0029",
        ]));
        assert_eq!(threats.len(), 2);
        assert_eq!(threats[0].tactic.id, "TA0002");
        let ids: Vec<&str> = threats[0].techniques.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["T1047", "T1027"]);
        assert_eq!(threats[1].techniques.len(), 1);
        assert_eq!(threats[1].techniques[0].subtechniques, ["T1218.011", "T1218.010"]);
        assert!(super::threats(&tags(&["attack.t1047"])).is_empty(), "no tactic, no threat");
    }
}
