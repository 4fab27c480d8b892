//! Progress of feature extraction: a sink the runner reports to, and a plain
//! stderr display with rate and ETA (no terminal library needed).

use std::io::Write;
use std::time::{Duration, Instant};

pub trait Progress {
    /// A new phase (`dataset features`, `generator features`) of `total` items.
    fn start(&mut self, tag: &str, total: Option<usize>);
    fn update(&mut self, done: usize);
    fn finish(&mut self);
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn start(&mut self, _: &str, _: Option<usize>) {}
    fn update(&mut self, _: usize) {}
    fn finish(&mut self) {}
}

/// One line on stderr, redrawn at most twice a second.
pub struct StderrProgress {
    tag: String,
    total: Option<usize>,
    started: Instant,
    last: Option<Instant>,
    done: usize,
}

impl Default for StderrProgress {
    fn default() -> Self {
        StderrProgress {
            tag: String::new(),
            total: None,
            started: Instant::now(),
            last: None,
            done: 0,
        }
    }
}

/// `1h 02m 03s` style, as the official `format_time`.
pub fn format_time(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else if s < 86400 {
        format!("{}h {:02}m {:02}s", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!(
            "{}d {:02}h {:02}m",
            s / 86400,
            (s / 3600) % 24,
            (s / 60) % 60
        )
    }
}

/// The status line for `done` of `total` items after `elapsed`.
pub fn status_line(tag: &str, done: usize, total: Option<usize>, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    match total {
        Some(t) if t > 0 => {
            let eta = if rate > 0.0 {
                format_time(t.saturating_sub(done) as f64 / rate)
            } else {
                "?".into()
            };
            format!(
                "{tag:<19} {done}/{t} ({:.0}%) {rate:.1} img/s elapsed {} ETA {eta}",
                100.0 * done as f64 / t as f64,
                format_time(secs)
            )
        }
        _ => format!(
            "{tag:<19} {done} {rate:.1} img/s elapsed {}",
            format_time(secs)
        ),
    }
}

impl Progress for StderrProgress {
    fn start(&mut self, tag: &str, total: Option<usize>) {
        *self = StderrProgress {
            tag: tag.into(),
            total,
            ..Default::default()
        };
    }
    fn update(&mut self, done: usize) {
        self.done = done;
        let now = Instant::now();
        if self
            .last
            .is_some_and(|l| now - l < Duration::from_millis(500))
        {
            return;
        }
        self.last = Some(now);
        let line = status_line(&self.tag, done, self.total, self.started.elapsed());
        let _ = write!(std::io::stderr(), "\r{line}\x1b[K");
    }
    fn finish(&mut self) {
        let line = status_line(&self.tag, self.done, self.total, self.started.elapsed());
        let _ = writeln!(std::io::stderr(), "\r{line}\x1b[K");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_eta() {
        assert_eq!(format_time(59.4), "59s");
        assert_eq!(format_time(123.0), "2m 03s");
        assert_eq!(format_time(3723.0), "1h 02m 03s");
        assert_eq!(format_time(90061.0), "1d 01h 01m");
        let l = status_line("x", 25, Some(100), Duration::from_secs(10));
        assert!(
            l.contains("25/100 (25%)") && l.contains("2.5 img/s") && l.contains("ETA 30s"),
            "{l}"
        );
    }
}
