//! The progress bar of a hunt on a terminal (hidden otherwise): bytes read of the inputs' total size, files done,
//! events and events/s with thousands separators, and an estimate of the time left.

use indicatif::{HumanCount, ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;
use vigil_runtime::read::Watch;

/// The bar and what it reads its position from.
pub struct Progress {
    bar: ProgressBar,
    /// Counts the bytes read of every input.
    watch: Watch,
    files: usize,
    started: Instant,
}

impl Progress {
    /// A bar for reading `files` (standard input, of unknown size, gets a spinner), shown when stderr is a
    /// terminal; `watch` is the one the inputs are read through.
    pub fn new(files: &[PathBuf], watch: &Watch) -> Progress {
        let sized = files.iter().all(|f| f.as_os_str() != "-");
        let total: u64 = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
        let bar = if !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else if sized {
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed}] {wide_bar} {binary_bytes}/{binary_total_bytes} · {msg} · ETA {eta}",
            );
            ProgressBar::new(total).with_style(style.unwrap_or_else(|_| ProgressStyle::default_bar()))
        } else {
            let style = ProgressStyle::with_template("{spinner} [{elapsed}] {binary_bytes} · {msg}");
            ProgressBar::new_spinner().with_style(style.unwrap_or_else(|_| ProgressStyle::default_spinner()))
        };
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Progress { bar, watch: watch.clone(), files: files.len(), started: Instant::now() }
    }

    /// Where the hunt is: inputs read to their end, and events read.
    pub fn update(&self, files_done: usize, events: u64) {
        if self.bar.is_hidden() {
            return;
        }
        self.bar.set_position(self.watch.bytes());
        let rate = events as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        self.bar.set_message(format!(
            "{files_done}/{} files · {} events · {} events/s",
            self.files,
            HumanCount(events),
            HumanCount(rate as u64)
        ));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
