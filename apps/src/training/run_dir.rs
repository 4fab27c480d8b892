//! The run directory `<outdir>/<NNNNN>-<desc>` and the log that mirrors every
//! printed line into `log.txt`.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The next free run directory under `outdir`, numbered after the largest
/// existing `NNNNN-` prefix as the official tool does.
pub fn next_run_dir(outdir: &Path, desc: &str) -> PathBuf {
    let next = std::fs::read_dir(outdir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let digits: String = name.chars().take_while(|c| c.is_ascii_digit()).collect();
                    digits.parse::<u64>().ok()
                })
                .max()
                .map_or(0, |m| m + 1)
        })
        .unwrap_or(0);
    outdir.join(format!("{next:05}-{desc}"))
}

/// Prints to stdout and appends the same text to `log.txt`.
pub struct Logger {
    file: Mutex<Option<File>>,
}

impl Logger {
    pub fn stdout_only() -> Self {
        Logger {
            file: Mutex::new(None),
        }
    }

    pub fn with_file(path: &Path) -> std::io::Result<Self> {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Logger {
            file: Mutex::new(Some(f)),
        })
    }

    pub fn line(&self, s: &str) {
        println!("{s}");
        if let Some(f) = self.file.lock().expect("log lock").as_mut() {
            // A failing log file must not stop training; stdout still has the line.
            let _ = writeln!(f, "{s}");
            let _ = f.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_follow_the_largest_existing_one() {
        let dir = std::env::temp_dir().join(format!("tcgan-rundir-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("00003-old")).unwrap();
        std::fs::create_dir_all(dir.join("notes")).unwrap();
        assert_eq!(next_run_dir(&dir, "x"), dir.join("00004-x"));
        assert_eq!(
            next_run_dir(&dir.join("missing"), "y"),
            dir.join("missing").join("00000-y")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
