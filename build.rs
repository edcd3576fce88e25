//! Embeds the git commit in the build as `HASHWATT_GIT_COMMIT`, for reports.
//!
//! An explicit `HASHWATT_GIT_COMMIT` in the environment wins (packagers,
//! builds outside git); otherwise `git rev-parse --short HEAD`; "unknown" when
//! neither works (a source tarball, no git installed).

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=HASHWATT_GIT_COMMIT");
    let commit = match std::env::var("HASHWATT_GIT_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => {
            // Rebuild when HEAD moves: `logs/HEAD` changes on every commit and
            // checkout (in a worktree too, where `.git` is a file).
            for file in ["HEAD", "logs/HEAD"] {
                if let Some(path) = git(&["rev-parse", "--git-path", file])
                    && Path::new(&path).exists()
                {
                    println!("cargo:rerun-if-changed={path}");
                }
            }
            git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into())
        }
    };
    println!("cargo:rustc-env=HASHWATT_GIT_COMMIT={commit}");
}
