//! `hashwatt compare A B`: two reports (bench or econ) read and set side by side.
#![no_main]

use hashwatt::report::compare::{Loaded, compare};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        // Split the input in two reports at the first NUL (or compare it with itself).
        let (a, b) = text.split_once('\0').unwrap_or((text, text));
        let loaded: Vec<Loaded> = [a, b]
            .iter()
            .enumerate()
            .filter_map(|(i, t)| Loaded::from_json(format!("{i}.json"), t).ok())
            .collect();
        if let Ok(c) = compare(&loaded) {
            let _ = c.to_markdown();
        }
    }
});
