//! `--header`: 160 hex digits (optional `0x`); a parsed header prints back to itself.
#![no_main]

use hashwatt::header::Header;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(header) = text.parse::<Header>()
    {
        assert_eq!(header.to_string().parse::<Header>().ok(), Some(header));
    }
});
