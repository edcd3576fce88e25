//! Hex text for fixed-size byte strings: the one decoder headers, hashes and
//! targets share, and its error type. A leaf: it depends on nothing in the crate.

/// Errors from parsing hex input (headers, hashes, targets).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HexError {
    /// The text has the wrong number of hex digits.
    #[error("expected {expected} hex digits for {what}, got {got}")]
    Length {
        /// What was being parsed.
        what: &'static str,
        /// Digits expected.
        expected: usize,
        /// Digits found.
        got: usize,
    },
    /// The text holds a character that is not a hex digit.
    #[error("{what} has a non-hex character {found:?} at position {position}")]
    Character {
        /// What was being parsed.
        what: &'static str,
        /// The offending character.
        found: char,
        /// Its zero-based position.
        position: usize,
    },
}

/// Decodes exactly `N` bytes from `N * 2` hex digits.
pub(crate) fn decode_hex<const N: usize>(what: &'static str, s: &str) -> Result<[u8; N], HexError> {
    // One rule for every hex input (header, target, nBits): an optional `0x`.
    let s = s.trim();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if let Some((position, found)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(HexError::Character {
            what,
            found,
            position,
        });
    }
    if s.len() != N * 2 {
        return Err(HexError::Length {
            what,
            expected: N * 2,
            got: s.len(),
        });
    }
    let mut out = [0u8; N];
    // All characters are ASCII hex digits and the length is right, so this cannot fail.
    hex::decode_to_slice(s, &mut out).map_err(|_| HexError::Length {
        what,
        expected: N * 2,
        got: s.len(),
    })?;
    Ok(out)
}
