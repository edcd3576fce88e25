//! Embeds the git commit in the build as `HASHWATT_GIT_COMMIT`, for reports.
//!
//! An explicit `HASHWATT_GIT_COMMIT` in the environment wins (packagers,
//! builds outside git); otherwise `git rev-parse --short HEAD`, with `-dirty`
//! when tracked files differ from it, so a report never credits a commit
//! with code it does not hold; "unknown" when neither works (a source
//! tarball, no git installed).

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
            // Edits under these paths can make the tree dirty or clean again.
            for path in [
                "src",
                "shaders",
                "benches",
                "Cargo.toml",
                "Cargo.lock",
                "build.rs",
            ] {
                println!("cargo:rerun-if-changed={path}");
            }
            match git(&["rev-parse", "--short", "HEAD"]) {
                Some(head) => {
                    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some();
                    if dirty { format!("{head}-dirty") } else { head }
                }
                None => "unknown".into(),
            }
        }
    };
    println!("cargo:rustc-env=HASHWATT_GIT_COMMIT={commit}");
}
