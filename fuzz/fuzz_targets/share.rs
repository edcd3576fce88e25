//! `hashwatt share` inputs: the notify line, the submit line, extranonce1 and
//! the version mask, split at NUL bytes, read as the command reads them.
//! A rebuilt share is rated on the scalar path.
#![no_main]

use hashwatt::stratum::{parse_u32_be, rebuild_share};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(4, '\0');
    let (notify, submit) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let extranonce1 = parts.next().unwrap_or("");
    let mask = match parts.next() {
        Some(m) => match parse_u32_be("--version-mask", m) {
            Ok(m) => m,
            Err(_) => return,
        },
        None => 0,
    };
    if let Ok(share) = rebuild_share(notify, submit, extranonce1, mask) {
        assert_eq!(share.hash, share.header.block_hash());
        assert!(share.difficulty > 0.0);
    }
});
