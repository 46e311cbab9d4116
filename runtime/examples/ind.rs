use aho_corasick::{AhoCorasick, AhoCorasickKind};
use vigil_compiler::ir::{Expr, StrOp, Test};
use vigil_compiler::{load_str, lower, Content};
fn walk(d: &std::path::Path, ext: &str, out: &mut Vec<std::path::PathBuf>) { for e in std::fs::read_dir(d).unwrap().flatten() { let p = e.path(); if p.is_dir() { walk(&p, ext, out) } else if p.extension().is_some_and(|e| e==ext) { out.push(p) } } }
fn tail(s: &str, k: usize) -> String { let mut start = s.len().saturating_sub(k); while !s.is_char_boundary(start) { start += 1; } s[start..].to_string() }
fn main() {
    let field = std::env::args().nth(1).unwrap_or("Hashes".into());
    let mut rf = Vec::new(); walk(std::path::Path::new("/work/shared/sigma/rules/windows"), "yml", &mut rf);
    let mut lits = Vec::new();
    for entry in rf { let text = std::fs::read_to_string(&entry).unwrap(); for d in load_str(&text) { if let Some(Content::Rule(r)) = d.content { let e: Expr = lower(r).expr; e.visit_predicates(&mut |p| { if p.field.as_deref() == Some(field.as_str()) { if let Test::Str { op: StrOp::Contains, value, .. } = &p.test { if let Some(s) = value.as_plain() { if !s.is_empty() { lits.push(s.to_lowercase()); } } } } }); } } }
    lits.sort(); lits.dedup();
    let total: usize = lits.iter().map(|l| l.len()).sum();
    println!("{} literals, {} bytes", lits.len(), total);
    let mut texts = Vec::new();
    let data = std::fs::read_to_string("/tmp/mordor1.jsonl").unwrap();
    for line in data.lines() { if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) { if let Some(s) = v.get(&field).and_then(|x| x.as_str()) { texts.push(s.to_lowercase()); } } }
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    println!("{} texts, {} bytes", texts.len(), bytes);
    for k in [usize::MAX, 32, 16, 12, 8] {
        let mut short: Vec<String> = lits.iter().map(|l| tail(l, k)).collect(); short.sort(); short.dedup();
        for (name, kind) in [("cnfa", AhoCorasickKind::ContiguousNFA), ("dfa", AhoCorasickKind::DFA)] {
            if name == "dfa" && short.len() > 2000 && k > 16 { continue; }
            let t = std::time::Instant::now();
            let ac = AhoCorasick::builder().kind(Some(kind)).build(&short).unwrap();
            let build = t.elapsed().as_secs_f64() * 1e3;
            let t = std::time::Instant::now(); let mut n = 0usize;
            for _ in 0..5 { for x in &texts { n += ac.find_overlapping_iter(x).count(); } }
            let ov = t.elapsed().as_secs_f64() * 1e3 / 5.0;
            println!("k={k:>20} {name}: {} literals, build {build:.1} ms, mem {} KB, scan {ov:.2} ms ({} matches)", short.len(), ac.memory_usage() / 1024, n / 5);
        }
    }
}
