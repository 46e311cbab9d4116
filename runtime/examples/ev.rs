use vigil_compiler::pipeline::{Options, PipelineSet};
use vigil_compiler::{load_str, lower, Content};
use vigil_runtime::{read, RuleSet};
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn walk(d: &std::path::Path, ext: &str, out: &mut Vec<std::path::PathBuf>) { for e in std::fs::read_dir(d).unwrap().flatten() { let p = e.path(); if p.is_dir() { walk(&p, ext, out) } else if p.extension().is_some_and(|e| e==ext) { out.push(p) } } }
fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let mut files = Vec::new(); walk(std::path::Path::new("/work/shared/evtx"), "evtx", &mut files);
    let mut rf = Vec::new(); walk(std::path::Path::new("/work/shared/sigma/rules/windows"), "yml", &mut rf);
    let routing = PipelineSet::resolve(&["sysmon".into(), "windows".into()], Options::default()).unwrap();
    let mut rules = Vec::new();
    for entry in rf { let text = std::fs::read_to_string(&entry).unwrap(); for d in load_str(&text) { if let Some(Content::Rule(mut r)) = d.content { if routing.apply(&mut r).is_ok() { rules.push((entry.display().to_string(), lower(r))); } } } }
    let (set, _) = RuleSet::build(rules);
    let mut parsed = Vec::new();
    for f in &files { read::read_path_raw(f, &mut |_, raw| parsed.extend(raw.into_record().ok())).unwrap(); }
    if mode == "rules" {
        let mut spent = vec![(0f64, 0usize, 0usize); set.rules.len()];
        for _ in 0..5 { for r in &parsed { let e = set.decode(r, 0).unwrap(); for c in set.candidates(&e) { let t = std::time::Instant::now(); let m = set.rule_matches(c, &e); spent[c as usize].0 += t.elapsed().as_secs_f64(); spent[c as usize].1 += 1; spent[c as usize].2 += m as usize; } } }
        let total: f64 = spent.iter().map(|s| s.0).sum();
        println!("eval total {:.1} ms per pass", total * 1e3 / 5.0);
        let mut order: Vec<usize> = (0..spent.len()).collect(); order.sort_by(|a, b| spent[*b].0.total_cmp(&spent[*a].0));
        for &i in order.iter().take(15) { println!("{:7.2} ms {:6} evals {:5} matches {}", spent[i].0 * 1e3 / 5.0, spent[i].1 / 5, spent[i].2 / 5, set.rules[i].path.rsplit('/').next().unwrap()); }
        return;
    }
    if mode == "plain" {
        let t = std::time::Instant::now(); let mut n = 0;
        for _ in 0..20 { for r in &parsed { n += vigil_runtime::Event::of(r, &set.fields, true).map(|e| e.fields().count()).unwrap_or(0); } }
        println!("plain: {:.1} ms per pass ({n})", t.elapsed().as_secs_f64() * 1e3 / 20.0);
        return;
    }
    let t = std::time::Instant::now();
    let mut n = 0;
    for _ in 0..20 { for r in &parsed { let e = set.decode(r, 0).unwrap(); n += match mode.as_str() { "decode" => e.get(0).is_some() as usize, "plain" => 0, "cand" => set.candidates(&e).len(), _ => set.matches(&e).len() }; } }
    println!("{mode}: {:.1} ms per pass ({n})", t.elapsed().as_secs_f64() * 1e3 / 20.0);

}
