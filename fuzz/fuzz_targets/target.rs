//! `--bits` (nBits hex), `--target` (64 hex digits) and `--difficulty`.
#![no_main]

use hashwatt::pow::{CompactTarget, Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(bits) = CompactTarget::from_hex(text)
            && let Ok(target) = Target::from_compact(bits)
        {
            let _ = Target::from_compact(target.to_compact_lossy());
        }
        let _ = Target::from_be_hex(text);
        if let Ok(d) = text.trim().parse::<f64>() {
            let _ = Target::from_difficulty(d);
        }
    }
});
