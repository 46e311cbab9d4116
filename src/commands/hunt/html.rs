//! `hunt --report FILE.html`: one self-contained HTML file to hand to a colleague. Its style, script and data are
//! inline and its Content-Security-Policy forbids every request, so it opens offline and nothing leaves the page.
//! The summary, the chart of detections per hour (per day past [`MAX_BARS`] hours) and level, and the top rules
//! and computers are written as HTML and SVG; the detections table is drawn by the inline script from the inline
//! data, with a search box and level filters (also read from the address: `report.html#level=high&q=powershell`).

use super::emit::{Origin, ReportRows};
use super::summary::{self, Facts};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// How a detection's origin is named in the report.
pub struct Named {
    pub title: String,
    pub level: &'static str,
    pub id: Option<String>,
}

/// The names of the rules and correlations a hunt ran, by number.
#[derive(Default)]
pub struct Origins {
    pub rules: Vec<Named>,
    pub correlations: Vec<Named>,
}

impl Origins {
    fn get(&self, origin: Origin) -> Option<&Named> {
        match origin {
            Origin::Rule(r) => self.rules.get(r as usize),
            Origin::Correlation(c) => self.correlations.get(c),
        }
    }
}

/// Bars of the chart at most: past this many hours, detections are counted per day.
const MAX_BARS: usize = 240;
/// Levels from the most to the least severe, with their colours.
const LEVELS: [(&str, &str); 6] = [
    ("critical", "#b00020"),
    ("high", "#e4572e"),
    ("medium", "#f3a712"),
    ("low", "#4c9f70"),
    ("informational", "#5b8def"),
    ("unknown", "#8a8a8a"),
];

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d1d1f; background: #fafafa; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.muted { color: #666; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px; min-width: 120px; }
.card b { display: block; font-size: 20px; }
.level { display: inline-block; padding: 1px 6px; border-radius: 4px; color: #fff; font-size: 12px; }
table { border-collapse: collapse; background: #fff; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f0f0f0; }
td.details { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
.tops { display: flex; gap: 24px; flex-wrap: wrap; } .tops > div { flex: 1; min-width: 320px; }
.controls { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
.controls input[type=search] { width: 320px; padding: 4px 8px; }
svg text { font-size: 11px; fill: #444; }
"#;

const SCRIPT: &str = r#"
(function () {
  var data = JSON.parse(document.getElementById('vigil-data').textContent);
  var colors = data.colors, rows = data.rows;
  var PAGE = 500;
  var search = document.getElementById('search');
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[data-level]'));
  var body = document.getElementById('detections');
  var shown = document.getElementById('shown-count');
  function fromAddress() {
    var params = new URLSearchParams(location.hash.slice(1));
    if (params.has('q')) search.value = params.get('q');
    if (params.has('level')) {
      var wanted = params.get('level').split(',');
      boxes.forEach(function (b) { b.checked = wanted.indexOf(b.dataset.level) >= 0; });
    }
  }
  function cell(tr, text, cls) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function draw() {
    var q = search.value.toLowerCase();
    var levels = {};
    boxes.forEach(function (b) { levels[b.dataset.level] = b.checked; });
    var matching = rows.filter(function (r) {
      return levels[r[1]] && (!q || r.join(' ').toLowerCase().indexOf(q) >= 0);
    });
    body.textContent = '';
    matching.slice(0, PAGE).forEach(function (r) {
      var tr = document.createElement('tr');
      tr.className = 'detection';
      cell(tr, r[0]);
      var level = cell(tr, '');
      var tag = document.createElement('span');
      tag.className = 'level';
      tag.style.background = colors[r[1]] || '#888';
      tag.textContent = r[1];
      level.appendChild(tag);
      cell(tr, r[2]); cell(tr, r[3]); cell(tr, r[4], 'details'); cell(tr, r[5]);
      body.appendChild(tr);
    });
    shown.textContent = matching.length;
    document.getElementById('page-note').textContent =
      matching.length > PAGE ? ' (the first ' + PAGE + ' are listed; search or filter to see others)' : '';
  }
  fromAddress();
  search.addEventListener('input', draw);
  boxes.forEach(function (b) { b.addEventListener('change', draw); });
  window.addEventListener('hashchange', function () { fromAddress(); draw(); });
  draw();
})();
"#;

/// Text for HTML: `&`, `<`, `>` and quotes escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn color(level: &str) -> &'static str {
    LEVELS.iter().find(|(l, _)| *l == level).map_or("#8a8a8a", |(_, c)| c)
}

/// The page: what the summary says, the chart, the tops, and the table's data.
pub fn page(facts: &Facts<'_>, rows: &ReportRows, origins: &Origins, files: &[String]) -> String {
    let summary = summary::json(facts);
    let number = |key: &str| summary[key].as_u64().unwrap_or(0);
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; \
         style-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Vigil hunt report</title><style>{STYLE}</style></head><body>\n"
    );
    let span = match (summary["first_detection"].as_str(), summary["last_detection"].as_str()) {
        (Some(first), Some(last)) => format!("detections from {first} to {last}"),
        _ => "no detection with an event time".to_string(),
    };
    let _ = write!(
        html,
        "<h1>Vigil hunt report</h1><div class=\"muted\">{} inputs · {} · {:.2} s</div>\n<div class=\"cards\">",
        facts.inputs,
        escape(&span),
        facts.seconds
    );
    let cards = [
        ("detections-total", "detections", number("detections")),
        ("events-total", "events", number("events")),
        ("rules-loaded", "rules loaded", number("rules_loaded")),
        ("rules-not-loaded", "rules not loaded", number("rules_not_loaded")),
        ("rules-left-out", "rules left out", number("rules_left_out")),
    ];
    for (id, label, value) in cards {
        let _ = write!(html, "<div class=\"card\"><b id=\"{id}\">{value}</b>{label}</div>");
    }
    for (level, colour) in LEVELS {
        let count = facts.tally.by_level.get(level).copied().unwrap_or(0);
        if count > 0 {
            let _ = write!(
                html,
                "<div class=\"card\"><b id=\"level-{level}\" style=\"color:{colour}\">{count}</b>{level}</div>"
            );
        }
    }
    html.push_str("</div>\n");
    chart(&mut html, rows, origins);
    tops(&mut html, facts);
    table(&mut html, rows, origins, files);
    html.push_str("</body></html>\n");
    html
}

/// The chart of detections per hour (or day) and level: stacked bars, as SVG.
fn chart(html: &mut String, rows: &ReportRows, origins: &Origins) {
    const HOUR: i64 = 3_600_000;
    let mut per_bucket: BTreeMap<i64, BTreeMap<&str, u64>> = BTreeMap::new();
    for (&(hour, origin), &count) in &rows.per_hour {
        let level = origins.get(origin).map_or("unknown", |n| n.level);
        *per_bucket.entry(hour).or_default().entry(level).or_default() += count;
    }
    let by_day = per_bucket.len() > MAX_BARS;
    if by_day {
        let mut days: BTreeMap<i64, BTreeMap<&str, u64>> = BTreeMap::new();
        for (hour, levels) in per_bucket {
            let day = days.entry(hour.div_euclid(24 * HOUR) * 24 * HOUR).or_default();
            for (level, count) in levels {
                *day.entry(level).or_default() += count;
            }
        }
        per_bucket = days;
    }
    let unit = if by_day { "day" } else { "hour" };
    let _ = write!(html, "<h2>Detections per {unit} and level</h2>");
    if per_bucket.is_empty() {
        html.push_str("<p class=\"muted\">No detection has an event time.</p>");
        return;
    }
    let tallest = per_bucket.values().map(|l| l.values().sum::<u64>()).max().unwrap_or(1).max(1);
    let (width, height, left, bottom) = (960.0_f64, 220.0_f64, 48.0_f64, 40.0_f64);
    let slot = (width - left) / per_bucket.len() as f64;
    let bar = (slot * 0.8).max(1.0);
    let _ = write!(
        html,
        "<svg id=\"chart\" role=\"img\" viewBox=\"0 0 {width} {}\" width=\"100%\" data-bars=\"{}\">",
        height + bottom,
        per_bucket.len()
    );
    let _ = write!(html, "<text x=\"0\" y=\"12\">{tallest}</text><text x=\"0\" y=\"{height}\">0</text>");
    for (i, (start, levels)) in per_bucket.iter().enumerate() {
        let x = left + i as f64 * slot;
        let mut top = height;
        for (level, _) in LEVELS.iter().rev() {
            let Some(&count) = levels.get(level) else { continue };
            let h = count as f64 / tallest as f64 * (height - 16.0);
            top -= h;
            let when = vigil_runtime::time::format_millis(*start);
            let _ = write!(
                html,
                "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"{}\" \
                 data-level=\"{level}\" data-count=\"{count}\"><title>{when}: {count} {level}</title></rect>",
                color(level)
            );
        }
    }
    let label = |millis: i64| {
        let text = vigil_runtime::time::format_millis(millis);
        if by_day {
            text.chars().take(10).collect::<String>()
        } else {
            text.chars().take(13).collect::<String>().replace('T', " ") + "h"
        }
    };
    let first = per_bucket.keys().next().copied().unwrap_or(0);
    let last = per_bucket.keys().next_back().copied().unwrap_or(0);
    let _ = write!(
        html,
        "<text x=\"{left}\" y=\"{}\">{}</text><text x=\"{width}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        height + 16.0,
        label(first),
        height + 16.0,
        label(last)
    );
    let mut x = left;
    for (level, colour) in LEVELS {
        let _ = write!(
            html,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{colour}\"></rect>\
             <text x=\"{}\" y=\"{}\">{level}</text>",
            height + 26.0,
            x + 14.0,
            height + 35.0
        );
        x += 110.0;
    }
    html.push_str("</svg>\n");
}

/// The top rules and computers.
fn tops(html: &mut String, facts: &Facts<'_>) {
    const TOP: usize = 20;
    html.push_str("<div class=\"tops\"><div><h2>Top rules</h2><table id=\"top-rules\"><tr><th>Detections</th><th>Level</th><th>Rule</th></tr>");
    for (count, title, _, level) in facts.tally.rules.iter().take(TOP) {
        let _ = write!(
            html,
            "<tr><td>{count}</td><td><span class=\"level\" style=\"background:{}\">{level}</span></td><td>{}</td></tr>",
            color(level),
            escape(title)
        );
    }
    html.push_str("</table></div><div><h2>Top computers</h2><table id=\"top-computers\"><tr><th>Detections</th><th>Computer</th></tr>");
    let mut computers: Vec<(&String, &u64)> = facts.per_computer.iter().collect();
    computers.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    for (computer, count) in computers.into_iter().take(TOP) {
        let _ = write!(html, "<tr><td>{count}</td><td>{}</td></tr>", escape(computer));
    }
    html.push_str("</table></div></div>\n");
}

/// The detections table: its controls, its (empty) body and the data the script draws it from.
fn table(html: &mut String, rows: &ReportRows, origins: &Origins, files: &[String]) {
    let listed = rows.rows.len() as u64;
    let note = if listed < rows.seen {
        format!(" The first {listed} of {} detections are listed.", rows.seen)
    } else {
        String::new()
    };
    let _ = write!(
        html,
        "<h2>Detections</h2><div class=\"controls\"><input type=\"search\" id=\"search\" \
         placeholder=\"Search title, computer, details, source\"><span>"
    );
    for (level, colour) in LEVELS {
        let _ = write!(
            html,
            "<label><input type=\"checkbox\" data-level=\"{level}\" checked> \
             <span class=\"level\" style=\"background:{colour}\">{level}</span></label> "
        );
    }
    let _ = writeln!(
        html,
        "</span></div><p><b id=\"shown-count\">{listed}</b> detections match<span id=\"page-note\"></span>.{}</p>\
         <table><thead><tr><th>Time</th><th>Level</th><th>Rule</th><th>Computer</th><th>Details</th>\
         <th>Source</th></tr></thead><tbody id=\"detections\"></tbody></table>",
        escape(&note)
    );
    let data: Vec<serde_json::Value> = rows
        .rows
        .iter()
        .map(|row| {
            let named = origins.get(row.origin);
            serde_json::json!([
                row.millis.map_or("-".to_string(), vigil_runtime::time::format_millis),
                named.map_or("unknown", |n| n.level),
                named.map_or("", |n| n.title.as_str()),
                row.computer.as_deref().unwrap_or("-"),
                row.details,
                format!("{}:{}", files.get(row.file as usize).map_or("", String::as_str), row.record),
                named.and_then(|n| n.id.as_deref()).unwrap_or(""),
            ])
        })
        .collect();
    let colors: serde_json::Map<String, serde_json::Value> =
        LEVELS.iter().map(|(l, c)| (l.to_string(), (*c).into())).collect();
    let data = serde_json::json!({"rows": data, "colors": colors});
    // Inside a script element, `</` could end it: JSON allows `<\/`.
    let data = data.to_string().replace("</", "<\\/");
    let _ =
        writeln!(html, "<script type=\"application/json\" id=\"vigil-data\">{data}</script><script>{SCRIPT}</script>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_the_data_stays_text() {
        assert_eq!(escape("<b a=\"1\">'&'</b>"), "&lt;b a=&quot;1&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;");
        let mut rows = ReportRows::default();
        rows.rows.push(super::super::emit::Row {
            origin: Origin::Rule(0),
            millis: None,
            computer: None,
            details: "</script><script>alert(1)</script>".to_string(),
            file: 0,
            record: 1,
        });
        let origins = Origins {
            rules: vec![Named { title: "<rule>".to_string(), level: "high", id: None }],
            correlations: Vec::new(),
        };
        let mut html = String::new();
        table(&mut html, &rows, &origins, &["f".to_string()]);
        assert!(!html.contains("</script><script>alert"), "{html}");
        assert_eq!(html.matches("</script>").count(), 2);
    }
}
