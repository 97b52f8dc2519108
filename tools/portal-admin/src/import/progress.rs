//! Progress of a long pass on standard error: a bar (rows, rate, time left) on a terminal,
//! a plain line every few seconds otherwise (a log, a CI job, a pipe).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How often a plain progress line is written.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    what: &'static str,
    total: Option<u64>,
    done: u64,
    started: Instant,
    last_line: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// `what` names the pass ("checking", "serials"); `total` the rows it will go through.
    pub fn new(what: &'static str, total: Option<u64>) -> Progress {
        let now = Instant::now();
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = match total {
                Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            };
            let template = match total {
                Some(_) => "{prefix:>9} [{bar:30}] {human_pos}/{human_len} rows, {rate}, {eta} left",
                None => "{prefix:>9} {spinner} {human_pos} rows, {rate}",
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                // Rows a second, whole: indicatif's own `per_sec` shows four decimals.
                let rate = |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0}/s", state.per_sec());
                };
                bar.set_style(style.with_key("rate", rate).progress_chars("=> "));
            }
            bar.set_prefix(what);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress { what, total, done: 0, started: now, last_line: now, bar }
    }

    pub fn add(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(bar) => bar.inc(n),
            None if self.last_line.elapsed() >= PLAIN_EVERY => {
                self.last_line = Instant::now();
                eprintln!("import: {}", self.line());
            }
            None => {}
        }
    }

    fn line(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = self.done as f64 / secs;
        match self.total {
            Some(total) if rate > 0.0 => {
                let left = (total.saturating_sub(self.done)) as f64 / rate;
                format!("{} {}/{} rows, {:.0}/s, about {:.0} s left", self.what, self.done, total, rate, left)
            }
            Some(total) => format!("{} {}/{} rows", self.what, self.done, total),
            None => format!("{} {} rows, {:.0}/s", self.what, self.done, rate),
        }
    }

    /// The pass is over: the bar goes away, or a last plain line says how long it took.
    pub fn finish(self) {
        match &self.bar {
            Some(bar) => bar.finish_and_clear(),
            // A pass too short for a line of its own is not worth one at its end either.
            None if self.started.elapsed() >= PLAIN_EVERY => {
                let secs = self.started.elapsed().as_secs_f64();
                eprintln!("import: {} done: {} rows in {:.1} s", self.what, self.done, secs);
            }
            None => {}
        }
    }
}
