//! The 32-byte double-SHA-256 hash type. A leaf under `header`, `pow` and the
//! engines; it depends only on [`crate::hex`].

use std::fmt;

use crate::hex::{HexError, decode_hex};

/// A double-SHA-256 hash of a block header, stored in the order SHA-256 emits it.
///
/// `Display` prints it byte-reversed, as block explorers do.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct BlockHash(pub [u8; 32]);

impl BlockHash {
    /// The all-zero hash (the genesis block's `prev_blockhash`).
    pub const ALL_ZEROS: BlockHash = BlockHash([0; 32]);

    /// Builds a hash from its display form (64 hex digits, byte-reversed).
    ///
    /// # Errors
    /// [`HexError`] if the text is not 64 hex digits.
    pub fn from_display_hex(s: &str) -> Result<Self, HexError> {
        let mut bytes = decode_hex::<32>("block hash", s)?;
        bytes.reverse();
        Ok(BlockHash(bytes))
    }

    /// The bytes in internal (wire) order.
    pub fn to_byte_array(self) -> [u8; 32] {
        self.0
    }
}

impl fmt::Display for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0.iter().rev() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlockHash({self})")
    }
}
