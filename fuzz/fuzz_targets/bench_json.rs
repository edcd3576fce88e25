//! Bench reports as read back: the typed `hashwatt.bench/1` reader and
//! `econ --bench`'s lenient one.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = serde_json::from_str::<hashwatt::bench::BenchReport>(text);
        let _ = hashwatt::economics::bench::BenchReport::from_json(text, Path::new("fuzz.json"));
    }
});
