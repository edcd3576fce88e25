//! Proof-of-work targets: the compact nBits form and the full 256-bit target.
//!
//! A block hash meets a target when the hash, read as a 256-bit *little-endian*
//! number, is at most the target. Compact decoding follows Bitcoin Core's
//! `arith_uint256::SetCompact` and `CheckProofOfWork` rules: a set sign bit,
//! an exponent that overflows 256 bits and a zero target are all invalid.

use std::fmt;
use std::str::FromStr;

use crate::hash::BlockHash;
use crate::hex::{HexError, decode_hex};

/// Errors from building a [`Target`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// nBits with the sign bit (0x00800000) set and a non-zero mantissa.
    #[error("nBits {0:#010x} is negative (sign bit 0x00800000 is set)")]
    Negative(u32),
    /// nBits whose exponent shifts the mantissa past 256 bits.
    #[error("nBits {0:#010x} overflows 256 bits")]
    Overflow(u32),
    /// A target of zero, which no hash can meet.
    #[error("target is zero: no hash can meet it")]
    Zero,
    /// A difficulty that is not a finite number above zero.
    #[error("difficulty must be a finite number above 0, got {0}")]
    BadDifficulty(f64),
    /// A difficulty so low that its target exceeds 2^256 - 1.
    #[error(
        "difficulty {0} is too low: its target would exceed 2^256 - 1 (the minimum is about 2.33e-10)"
    )]
    DifficultyTooLow(f64),
    /// Malformed hex.
    #[error(transparent)]
    Hex(#[from] HexError),
}

/// The compact ("nBits") encoding of a target, as stored in a header.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct CompactTarget(u32);

impl CompactTarget {
    /// Wraps the raw nBits value.
    pub const fn from_consensus(bits: u32) -> Self {
        CompactTarget(bits)
    }

    /// The raw nBits value.
    pub const fn to_consensus(self) -> u32 {
        self.0
    }

    /// Parses 8 hex digits as written by Bitcoin Core (`1d00ffff`, big-endian).
    ///
    /// # Errors
    /// [`HexError`] if the text is not 8 hex digits (an optional `0x` prefix is allowed).
    pub fn from_hex(s: &str) -> Result<Self, HexError> {
        Ok(CompactTarget(u32::from_be_bytes(decode_hex::<4>(
            "nBits", s,
        )?)))
    }
}

impl fmt::Display for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// A 256-bit proof-of-work target, stored as four little-endian 64-bit limbs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Target([u64; 4]);

impl Target {
    /// The difficulty-1 target, `0x00000000ffff0000…0000` (nBits `1d00ffff`).
    ///
    /// Source: Bitcoin Core `src/kernel/chainparams.cpp` (genesis nBits) and the
    /// "bdiff" definition of difficulty.
    pub const MAX_ATTAINABLE_MAINNET: Target = Target([0, 0, 0, 0x0000_0000_ffff_0000]);

    /// The largest representable target: every hash meets it.
    pub const MAX: Target = Target([u64::MAX; 4]);

    /// Decodes compact nBits with Bitcoin Core's rules.
    ///
    /// # Errors
    /// [`TargetError::Negative`], [`TargetError::Overflow`] or [`TargetError::Zero`].
    pub fn from_compact(c: CompactTarget) -> Result<Target, TargetError> {
        let bits = c.0;
        let exponent = bits >> 24;
        let mantissa = bits & 0x007f_ffff;
        if mantissa != 0 && bits & 0x0080_0000 != 0 {
            return Err(TargetError::Negative(bits));
        }
        if mantissa != 0
            && (exponent > 34
                || (mantissa > 0xff && exponent > 33)
                || (mantissa > 0xffff && exponent > 32))
        {
            return Err(TargetError::Overflow(bits));
        }
        let value = if exponent <= 3 {
            Target([u64::from(mantissa >> (8 * (3 - exponent))), 0, 0, 0])
        } else {
            Target([u64::from(mantissa), 0, 0, 0]).shl(8 * (exponent - 3))
        };
        if value.is_zero() {
            return Err(TargetError::Zero);
        }
        Ok(value)
    }

    /// Encodes to compact form; bits below the 24-bit mantissa are dropped.
    pub fn to_compact_lossy(self) -> CompactTarget {
        let bytes = self.to_be_bytes();
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(32);
        let mut size = (32 - first) as u32;
        let mut mantissa = if size <= 3 {
            (self.0[0] << (8 * (3 - size))) as u32
        } else {
            let m = &bytes[first..first + 3];
            u32::from_be_bytes([0, m[0], m[1], m[2]])
        };
        if mantissa & 0x0080_0000 != 0 {
            mantissa >>= 8;
            size += 1;
        }
        CompactTarget(size << 24 | mantissa)
    }

    /// The target for a pool share difficulty: `difficulty-1 target / difficulty`.
    ///
    /// Whole-number difficulties are divided exactly in 256-bit arithmetic;
    /// fractional ones go through `f64` (53 significant bits).
    ///
    /// # Errors
    /// [`TargetError::BadDifficulty`] for zero, negative, NaN or infinite values,
    /// [`TargetError::DifficultyTooLow`] when the target would exceed 2^256 - 1.
    pub fn from_difficulty(difficulty: f64) -> Result<Target, TargetError> {
        if !difficulty.is_finite() || difficulty <= 0.0 {
            return Err(TargetError::BadDifficulty(difficulty));
        }
        let target = if difficulty.fract() == 0.0 && difficulty < 18_446_744_073_709_551_616.0 {
            Self::MAX_ATTAINABLE_MAINNET.div_u64(difficulty as u64)
        } else {
            let value = Self::MAX_ATTAINABLE_MAINNET.to_f64() / difficulty;
            Target::from_f64(value).ok_or(TargetError::DifficultyTooLow(difficulty))?
        };
        if target.is_zero() {
            return Err(TargetError::Zero);
        }
        Ok(target)
    }

    /// Difficulty relative to the difficulty-1 target (`difficulty_float` in rust-bitcoin).
    pub fn difficulty(&self) -> f64 {
        Self::MAX_ATTAINABLE_MAINNET.to_f64() / self.to_f64()
    }

    /// Whether `hash`, read as a little-endian 256-bit number, is at most this target.
    pub fn is_met_by(&self, hash: BlockHash) -> bool {
        Target::from_le_bytes(hash.0) <= *self
    }

    /// Builds a target from 32 little-endian bytes (hash order).
    pub fn from_le_bytes(b: [u8; 32]) -> Target {
        let limb = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i * 8..i * 8 + 8]);
            u64::from_le_bytes(w)
        };
        Target([limb(0), limb(1), limb(2), limb(3)])
    }

    /// The 32 little-endian bytes.
    pub fn to_le_bytes(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, limb) in self.0.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&limb.to_le_bytes());
        }
        out
    }

    /// The 32 big-endian bytes (the order targets are written in).
    pub fn to_be_bytes(self) -> [u8; 32] {
        let mut b = self.to_le_bytes();
        b.reverse();
        b
    }

    /// Parses 64 hex digits written big-endian, e.g. `00000000ffff0000…`.
    ///
    /// # Errors
    /// [`TargetError::Hex`] for malformed text, [`TargetError::Zero`] for zero.
    pub fn from_be_hex(s: &str) -> Result<Target, TargetError> {
        let mut b = decode_hex::<32>("target", s)?;
        b.reverse();
        let t = Target::from_le_bytes(b);
        if t.is_zero() {
            return Err(TargetError::Zero);
        }
        Ok(t)
    }

    /// The top 32 bits (bits 224..256): the word that decides most comparisons.
    ///
    /// A hash whose top 32 bits exceed this cannot meet the target; one at or
    /// below it is a *candidate* that needs the full comparison.
    pub fn top_word(&self) -> u32 {
        (self.0[3] >> 32) as u32
    }

    fn is_zero(&self) -> bool {
        self.0 == [0; 4]
    }

    fn shl(self, bits: u32) -> Target {
        let limbs = (bits / 64) as usize;
        let rem = bits % 64;
        let mut out = [0u64; 4];
        for i in (limbs..4).rev() {
            out[i] = self.0[i - limbs] << rem;
            if rem != 0 && i > limbs {
                out[i] |= self.0[i - limbs - 1] >> (64 - rem);
            }
        }
        Target(out)
    }

    fn div_u64(self, d: u64) -> Target {
        let mut out = [0u64; 4];
        let mut rem: u128 = 0;
        for i in (0..4).rev() {
            let cur = (rem << 64) | u128::from(self.0[i]);
            out[i] = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
        Target(out)
    }

    fn to_f64(self) -> f64 {
        self.0.iter().rev().fold(0.0, |acc, &limb| {
            acc * 18_446_744_073_709_551_616.0 + limb as f64
        })
    }

    /// Converts a non-negative finite `f64` to 256 bits (truncating); `None` past 2^256 - 1.
    fn from_f64(v: f64) -> Option<Target> {
        if v.is_nan() || v < 0.0 || v >= 2f64.powi(256) {
            return None;
        }
        if v < 1.0 {
            return Some(Target([0; 4]));
        }
        let bits = v.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32 - 1075;
        let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
        if exp < 0 {
            return Some(Target([mantissa >> (-exp), 0, 0, 0]));
        }
        Some(Target([mantissa, 0, 0, 0]).shl(exp as u32))
    }
}

impl PartialOrd for Target {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Target {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.iter().rev().cmp(other.0.iter().rev())
    }
}

impl fmt::Display for Target {
    /// 64 hex digits, big-endian.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.to_be_bytes() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for Target {
    type Err = TargetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::from_be_hex(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difficulty_one() {
        let t = Target::from_compact(CompactTarget::from_consensus(0x1d00ffff)).unwrap();
        assert_eq!(t, Target::MAX_ATTAINABLE_MAINNET);
        assert_eq!(t.to_string(), format!("00000000ffff{}", "0".repeat(52)));
        assert_eq!(t.difficulty(), 1.0);
        assert_eq!(Target::from_difficulty(1.0).unwrap(), t);
        assert_eq!(t.to_compact_lossy().to_consensus(), 0x1d00ffff);
        assert_eq!(t.top_word(), 0);
    }

    #[test]
    fn core_rules() {
        let c = CompactTarget::from_consensus;
        assert_eq!(
            Target::from_compact(c(0x04923456)),
            Err(TargetError::Negative(0x04923456))
        );
        assert_eq!(
            Target::from_compact(c(0xff123456)),
            Err(TargetError::Overflow(0xff123456))
        );
        assert_eq!(
            Target::from_compact(c(0x21010000)),
            Err(TargetError::Overflow(0x21010000))
        );
        assert_eq!(Target::from_compact(c(0x01003456)), Err(TargetError::Zero));
        assert_eq!(Target::from_compact(c(0x00000000)), Err(TargetError::Zero));
        // Values from Bitcoin Core's arith_uint256 tests.
        assert_eq!(
            Target::from_compact(c(0x01123456)).unwrap().0,
            [0x12, 0, 0, 0]
        );
        assert_eq!(
            Target::from_compact(c(0x04123456)).unwrap().0,
            [0x12345600, 0, 0, 0]
        );
        assert_eq!(
            Target::from_compact(c(0x05009234)).unwrap().0,
            [0x92340000, 0, 0, 0]
        );
        let regtest = Target::from_compact(c(0x207fffff)).unwrap();
        assert_eq!(regtest.top_word(), 0x7fffff00);
        assert_eq!(regtest.to_compact_lossy().to_consensus(), 0x207fffff);
    }

    #[test]
    fn difficulty_targets() {
        let t = Target::from_difficulty(2.0).unwrap();
        assert_eq!(t.to_string(), format!("000000007fff8{}", "0".repeat(51)));
        let half = Target::from_difficulty(0.5).unwrap();
        assert_eq!(half.to_string(), format!("00000001fffe{}", "0".repeat(52)));
        assert!((Target::from_difficulty(1234.5).unwrap().difficulty() - 1234.5).abs() < 1e-9);
        assert!(Target::from_difficulty(0.0).is_err());
        assert!(Target::from_difficulty(-1.0).is_err());
        assert!(Target::from_difficulty(f64::NAN).is_err());
        assert!(matches!(
            Target::from_difficulty(1e-10),
            Err(TargetError::DifficultyTooLow(_))
        ));
    }

    #[test]
    fn hex_and_order() {
        let t: Target = format!("00000000ffff{}", "0".repeat(52)).parse().unwrap();
        assert_eq!(t, Target::MAX_ATTAINABLE_MAINNET);
        assert!(matches!("00".parse::<Target>(), Err(TargetError::Hex(_))));
        assert_eq!("0".repeat(64).parse::<Target>(), Err(TargetError::Zero));
        let mut h = [0u8; 32];
        h[27] = 1; // 2^216
        assert!(t.is_met_by(BlockHash(h)));
        h[28] = 1; // past the target
        assert!(!t.is_met_by(BlockHash(h)));
        assert!(Target::MAX.is_met_by(BlockHash([0xff; 32])));
    }
}
