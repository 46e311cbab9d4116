//! `vigil hunt --report FILE.html` opened in a real browser: headless Chromium (Debian's `chromium`, installed by
//! `.ci/run`; another binary with `VIGIL_CHROMIUM`). The tests are ignored unless asked for (`--include-ignored`):
//! a machine without Chromium reports them as ignored, never as passed.
//!
//! "No request leaves the page" is checked by pointing Chromium at a proxy that is a listener of the test: every
//! request goes through it. Chromium itself talks to Google's services (time, accounts, components) whatever the
//! page; those hosts are told apart, and a control page with an outside image shows that a page's request is seen.

mod common;

use common::{stderr, vigil};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const EXAMPLE: &str = "examples/wmi_module_load.jsonl";
const SEED: &str = "rules/sysmon_wmi_module_load.yml";
const LOW_RULE: &str = "title: Notepad started\nid: 9c1a1f0e-0000-4000-8000-000000000001\nstatus: test\nlevel: low\nlogsource: {category: process_creation, product: windows}\ndetection:\n    selection:\n        Image|endswith: '\\notepad.exe'\n    condition: selection\n";

/// Hosts Chromium reaches on its own, whatever page it shows.
const BROWSER_SERVICES: [&str; 3] = [".google.com", ".gvt1.com", ".googleapis.com"];

fn chromium() -> String {
    std::env::var("VIGIL_CHROMIUM").unwrap_or_else(|_| "chromium".to_string())
}

/// The requests (their first lines) Chromium sent through the test's proxy while it ran.
struct Proxy {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("address").port();
        let (seen, stop) = (Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicBool::new(false)));
        let (seen_by, stop_by) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop_by.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                        let mut line = String::new();
                        let _ = BufReader::new(stream).read_line(&mut line);
                        seen_by.lock().expect("lock").push(line.trim().to_string());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Proxy { port, seen, stop }
    }

    /// The requests that were not Chromium's own.
    fn requests_of_the_page(&self) -> Vec<String> {
        let seen = self.seen.lock().expect("lock");
        seen.iter()
            .filter(|request| {
                let target = request.split_whitespace().nth(1).unwrap_or("");
                let host = target.trim_start_matches("http://").split(['/', ':']).next().unwrap_or("");
                !BROWSER_SERVICES.iter().any(|service| host.ends_with(service))
            })
            .cloned()
            .collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Chromium, headless, through `proxy`, on `url`, with `extra` arguments; its standard output.
fn browse(proxy: &Proxy, profile: &Path, url: &str, extra: &[&str]) -> String {
    let _ = std::fs::remove_dir_all(profile);
    let output = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--proxy-server=http://127.0.0.1:{}", proxy.port))
        // Without this, Chromium sends even loopback requests straight, past the proxy.
        .arg("--proxy-bypass-list=<-loopback>")
        .arg("--virtual-time-budget=5000")
        .args(extra)
        .arg(url)
        .output()
        .unwrap_or_else(|e| {
            panic!("{} does not run ({e}): install Debian's chromium or set VIGIL_CHROMIUM", chromium())
        });
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The text of the element with `id` in a dumped DOM.
fn text_of(dom: &str, id: &str) -> String {
    let start = dom.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in the page"));
    let from = start + dom[start..].find('>').expect("tag end") + 1;
    let to = from + dom[from..].find('<').expect("text end");
    dom[from..to].to_string()
}

fn rows(dom: &str) -> usize {
    dom.matches("<tr class=\"detection\"").count()
}

#[test]
#[ignore = "needs Chromium (Debian's chromium package, or VIGIL_CHROMIUM)"]
fn the_report_opens_in_chromium_with_the_right_counts_and_no_request() {
    let low = common::write_in("report_browser", "notepad_started.yml", LOW_RULE);
    let report = common::tmp_in("report_browser", "report.html");
    let hunt = vigil(&[
        "hunt",
        "--format",
        "jsonl",
        "-r",
        SEED,
        "-r",
        &low,
        "--report",
        &report.display().to_string(),
        EXAMPLE,
    ]);
    assert_eq!(hunt.status.code(), Some(0), "{}", stderr(&hunt));
    let url = format!("file://{}", report.canonicalize().expect("report written").display());
    let profile = common::tmp_in("report_browser", "profile");
    let proxy = Proxy::start();

    let dom = browse(&proxy, &profile, &url, &["--dump-dom"]);
    assert_eq!(text_of(&dom, "detections-total"), "4");
    assert_eq!(text_of(&dom, "level-critical"), "3");
    assert_eq!(text_of(&dom, "level-low"), "1");
    assert_eq!(text_of(&dom, "rules-loaded"), "2");
    assert_eq!(text_of(&dom, "shown-count"), "4", "the script drew the table");
    assert_eq!(rows(&dom), 4);
    assert!(dom.contains("<rect"), "the chart has bars");
    assert!(dom.contains("WORKSTATION5.example.lab"), "the top computers");

    // The address carries the filters: a level, then a search.
    let low_only = browse(&proxy, &profile, &format!("{url}#level=low"), &["--dump-dom"]);
    assert_eq!(text_of(&low_only, "shown-count"), "1");
    assert_eq!(rows(&low_only), 1);
    let searched = browse(&proxy, &profile, &format!("{url}#q=wmiutils"), &["--dump-dom"]);
    assert_eq!(text_of(&searched, "shown-count"), "1");
    assert!(searched.contains("wmiutils.dll"));

    let screenshot = common::tmp_in("report_browser", "report.png");
    let _ = std::fs::remove_file(&screenshot);
    browse(&proxy, &profile, &url, &[&format!("--screenshot={}", screenshot.display()), "--window-size=1280,1400"]);
    let png = std::fs::read(&screenshot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "{} is a PNG", screenshot.display());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(proxy.requests_of_the_page(), Vec::<String>::new(), "the report sent requests");

    // The control: an outside image on a page is seen by the proxy.
    let control = common::write_in("report_browser", "control.html", "<img src=\"http://vigil-canary.test/x.png\">");
    browse(&proxy, &profile, &format!("file://{control}"), &["--dump-dom"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(proxy.requests_of_the_page().iter().any(|r| r.contains("vigil-canary.test")), "a page's request is seen");
}
