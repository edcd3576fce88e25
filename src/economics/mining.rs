//! Expected mining revenue from a hash rate, the halving schedule and the
//! network difficulty.
//!
//! The expected number of blocks a miner with hash rate `H` finds per second
//! is `H / (D × 2^32)`, because a block at difficulty `D` takes about
//! `D × 2^32` hashes. Per day, with a pool:
//!
//! ```text
//! BTC/day = H × 86400 × (subsidy + fees) × (1 − pool fee) × (1 − stale) × uptime / (D × 2^32)
//! ```
//!
//! The *hashprice* is the same figure for 1 PH/s, gross (before pool fee,
//! stale shares and downtime), in USD per PH/s per day — the unit Luxor's
//! Hashrate Index publishes. At the January 2026 inputs of
//! [`crate::economics::presets::network`] this module gives about
//! $38.9/PH/s/day against Luxor's published $39.53 (the 1.7 % gap is the
//! week's difficulty and fee averaging).
//!
//! ```
//! use hashwatt::economics::mining::subsidy_sats;
//! assert_eq!(subsidy_sats(0), 5_000_000_000);
//! assert_eq!(subsidy_sats(840_000), 312_500_000);
//! assert_eq!(subsidy_sats(64 * 210_000), 0);
//! ```

use super::error::{self, Result};
use super::inputs::{self, Value, key};
use super::units::{Btc, Difficulty, HashRate, Percent, Usd, UsdPerHour};
use serde::Serialize;

/// Blocks between subsidy halvings.
///
/// Source: Bitcoin Core `src/kernel/chainparams.cpp`,
/// `consensus.nSubsidyHalvingInterval = 210000` (docs/sources.md §1, **P**).
pub const HALVING_INTERVAL: u32 = 210_000;

/// The genesis-era block subsidy in satoshis: 50 BTC.
///
/// Source: Bitcoin Core `src/kernel/chainparams.cpp` (genesis reward
/// `50 * COIN`) and `src/validation.cpp` `GetBlockSubsidy`
/// (docs/sources.md §1, **P**).
pub const INITIAL_SUBSIDY_SATS: u64 = 50 * Btc::SATS_PER_BTC;

/// Target seconds between blocks.
///
/// Source: Bitcoin Core `chainparams.cpp`, `nPowTargetSpacing = 10 * 60`
/// (docs/sources.md §1, **P**).
pub const TARGET_BLOCK_SECONDS: f64 = 600.0;

/// Expected hashes per block per unit of difficulty.
///
/// The exact value is 2^256 / (0xFFFF × 2^208) = 2^48 / 65535 =
/// 4,295,032,833 (docs/sources.md §1, **D**); like the Braiins and Luxor
/// calculators this model uses 2^32, which is 0.0015 % smaller, well below
/// the uncertainty of any difficulty forecast.
pub const HASHES_PER_DIFFICULTY: f64 = 4_294_967_296.0;

/// Seconds per day.
pub const SECONDS_PER_DAY: f64 = 86_400.0;

/// One petahash per second, in hashes per second.
pub const PH_PER_S: f64 = 1e15;

/// Average days per month (365.25 / 12) used by the horizon projection.
pub const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

/// Block subsidy in satoshis at `height`, exactly as consensus computes it:
/// `50 BTC >> (height / 210,000)`, and 0 once 64 or more halvings have
/// happened (a shift by ≥ 64 would be undefined for a 64-bit integer).
pub fn subsidy_sats(height: u32) -> u64 {
    let halvings = height / HALVING_INTERVAL;
    if halvings >= 64 {
        0
    } else {
        INITIAL_SUBSIDY_SATS >> halvings
    }
}

/// Inputs to the mining model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MiningInputs {
    /// The miner's hash rate.
    pub hashrate: HashRate,
    /// Network difficulty.
    pub difficulty: Difficulty,
    /// Block height (sets the subsidy).
    pub height: u32,
    /// Average transaction fees per block.
    pub fees_per_block: Btc,
    /// Pool fee, percent of revenue.
    pub pool_fee: Percent,
    /// Stale (rejected) share rate, percent.
    pub stale: Percent,
    /// Fraction of the time the miner is hashing, percent.
    pub uptime: Percent,
    /// BTC price in USD.
    pub btc_price: Usd,
}

impl MiningInputs {
    /// Checks every field; the error names the field as in a scenario file.
    ///
    /// # Errors
    /// [`EconError::InvalidInput`](super::EconError::InvalidInput) for a
    /// negative or non-finite number, zero difficulty, or a percentage out of
    /// 0–100.
    pub fn validate(&self) -> Result<()> {
        inputs::check_all(&self.values())
    }

    /// Each field under its scenario key, as reports echo it; [`Self::validate`]
    /// checks each by its key's [`inputs::Rule`].
    pub fn values(&self) -> [(&'static str, Value); 8] {
        [
            (key!(mining.hashrate_h_per_s), self.hashrate.get().into()),
            (key!(mining.difficulty), self.difficulty.get().into()),
            (key!(mining.height), self.height.into()),
            (
                key!(mining.fees_btc_per_block),
                self.fees_per_block.get().into(),
            ),
            (key!(mining.pool_fee_pct), self.pool_fee.get().into()),
            (key!(mining.stale_pct), self.stale.get().into()),
            (key!(mining.uptime_pct), self.uptime.get().into()),
            (key!(mining.btc_price_usd), self.btc_price.get().into()),
        ]
    }
}

/// Expected mining revenue (modeled from the inputs; only the hash rate may
/// be measured). Reports serialize it as it is (fields in report order; an
/// infinite figure is `null` in JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MiningEstimate {
    /// Expected bitcoin per day, net of pool fee, stale shares and downtime.
    pub btc_per_day: Btc,
    /// `btc_per_day` × BTC price.
    pub usd_per_day: Usd,
    /// `usd_per_day` / 24.
    pub usd_per_hour: UsdPerHour,
    /// Gross hashprice, USD per PH/s per day.
    pub hashprice_usd_per_ph_day: f64,
    /// Gross hashprice, BTC per PH/s per day.
    pub hashprice_btc_per_ph_day: f64,
    /// Block subsidy at the input height.
    pub subsidy_btc: Btc,
    /// Subsidy plus fees per block.
    pub reward_per_block_btc: Btc,
    /// Network hash rate implied by the difficulty (D × 2^32 / 600 s).
    #[serde(rename = "network_hashrate_h_per_s")]
    pub network_hashrate: HashRate,
    /// Expected days between blocks if this hash rate mined solo
    /// (infinite for zero hash rate).
    pub solo_days_per_block: f64,
}

/// Gross BTC per day per H/s: `86400 × reward / (D × 2^32)`.
fn btc_per_hash_day(difficulty: Difficulty, reward: Btc) -> f64 {
    SECONDS_PER_DAY * reward.get() / (difficulty.get() * HASHES_PER_DIFFICULTY)
}

/// Evaluates the mining model.
///
/// ```
/// use hashwatt::economics::mining::{estimate, MiningInputs};
/// use hashwatt::economics::units::*;
/// let m = estimate(&MiningInputs {
///     hashrate: HashRate(1e15), // 1 PH/s
///     difficulty: Difficulty(100e12),
///     height: 900_000,
///     fees_per_block: Btc(0.0),
///     pool_fee: Percent(0.0),
///     stale: Percent(0.0),
///     uptime: Percent(100.0),
///     btc_price: Usd(100_000.0),
/// })?;
/// // 1e15 × 86400 × 3.125 / (1e14 × 2^32) BTC/day
/// assert!((m.btc_per_day.get() - 6.286_427e-4).abs() < 1e-9);
/// # Ok::<(), hashwatt::economics::EconError>(())
/// ```
///
/// # Errors
/// As [`MiningInputs::validate`].
pub fn estimate(inputs: &MiningInputs) -> Result<MiningEstimate> {
    inputs.validate()?;
    let subsidy = Btc::from_sats(subsidy_sats(inputs.height));
    let reward = Btc(subsidy.get() + inputs.fees_per_block.get());
    let per_hash_day = btc_per_hash_day(inputs.difficulty, reward);
    let net_factor = (1.0 - inputs.pool_fee.fraction())
        * (1.0 - inputs.stale.fraction())
        * inputs.uptime.fraction();
    let btc_per_day = Btc(inputs.hashrate.get() * per_hash_day * net_factor);
    let usd_per_day = Usd(btc_per_day.get() * inputs.btc_price.get());
    let hashprice_btc = per_hash_day * PH_PER_S;
    let network = inputs.difficulty.get() * HASHES_PER_DIFFICULTY / TARGET_BLOCK_SECONDS;
    let solo_days = if inputs.hashrate.get() > 0.0 {
        inputs.difficulty.get() * HASHES_PER_DIFFICULTY / inputs.hashrate.get() / SECONDS_PER_DAY
    } else {
        f64::INFINITY
    };
    Ok(MiningEstimate {
        subsidy_btc: subsidy,
        reward_per_block_btc: reward,
        btc_per_day,
        usd_per_day,
        usd_per_hour: UsdPerHour(usd_per_day.get() / 24.0),
        hashprice_usd_per_ph_day: hashprice_btc * inputs.btc_price.get(),
        hashprice_btc_per_ph_day: hashprice_btc,
        network_hashrate: HashRate(network),
        solo_days_per_block: solo_days,
    })
}

/// Horizon settings for a multi-month projection, as the Braiins calculator
/// offers: difficulty and BTC price compound monthly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Horizon {
    /// Number of months to project (0 disables the projection).
    pub months: u32,
    /// Difficulty growth per month, percent (may be negative).
    pub difficulty_growth_pct_per_month: f64,
    /// BTC price change per month, percent (may be negative, > −100).
    pub btc_price_change_pct_per_month: f64,
}

/// One month of a [`project`]ion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HorizonMonth {
    /// Month number, starting at 1.
    pub month: u32,
    /// Difficulty at the month's start.
    pub difficulty: Difficulty,
    /// BTC price at the month's start.
    pub btc_price_usd: Usd,
    /// Bitcoin mined in the month (net of pool fee, stale, downtime).
    pub btc: Btc,
    /// USD value of that bitcoin at each day's price.
    pub revenue_usd: Usd,
    /// Power cost for the month.
    pub power_usd: Usd,
    /// Revenue minus power.
    pub net_usd: Usd,
    /// Cumulative net since the start.
    pub cumulative_net_usd: Usd,
}

/// Projects mining revenue month by month, integrating day by day so that a
/// halving (144 blocks a day) or a difficulty step inside a month is counted
/// on the right day.
///
/// # Errors
/// As [`MiningInputs::validate`], plus the horizon's rates must be finite and
/// the price change above −100 %.
pub fn project(
    inputs: &MiningInputs,
    horizon: &Horizon,
    power_cost: UsdPerHour,
) -> Result<Vec<HorizonMonth>> {
    inputs.validate()?;
    let g = error::finite(
        key!(mining.difficulty_growth_pct_per_month),
        horizon.difficulty_growth_pct_per_month,
    )?;
    if g <= -100.0 {
        return Err(error::EconError::InvalidInput {
            field: key!(mining.difficulty_growth_pct_per_month).into(),
            reason: "must be greater than -100",
            value: format!("{g}"),
        });
    }
    let p = error::finite(
        key!(mining.btc_price_change_pct_per_month),
        horizon.btc_price_change_pct_per_month,
    )?;
    if p <= -100.0 {
        return Err(error::EconError::InvalidInput {
            field: key!(mining.btc_price_change_pct_per_month).into(),
            reason: "must be greater than -100",
            value: format!("{p}"),
        });
    }
    let blocks_per_day = SECONDS_PER_DAY / TARGET_BLOCK_SECONDS;
    let net_factor = (1.0 - inputs.pool_fee.fraction())
        * (1.0 - inputs.stale.fraction())
        * inputs.uptime.fraction();
    let mut out = Vec::with_capacity(horizon.months as usize);
    let mut cumulative = 0.0;
    let mut day = 0.0_f64;
    for month in 1..=horizon.months {
        let end = f64::from(month) * DAYS_PER_MONTH;
        let start_months = f64::from(month - 1);
        let (mut btc, mut usd) = (0.0, 0.0);
        let mut days_in_month = 0.0;
        while day < end - 1e-9 {
            let step = (end - day).min(1.0);
            let months_elapsed = day / DAYS_PER_MONTH;
            let difficulty = inputs.difficulty.get() * (1.0 + g / 100.0).powf(months_elapsed);
            let price = inputs.btc_price.get() * (1.0 + p / 100.0).powf(months_elapsed);
            let height_f = f64::from(inputs.height) + day * blocks_per_day;
            let height = if height_f >= f64::from(u32::MAX) {
                u32::MAX
            } else {
                height_f as u32
            };
            let reward = Btc::from_sats(subsidy_sats(height)).get() + inputs.fees_per_block.get();
            let b = inputs.hashrate.get()
                * btc_per_hash_day(Difficulty(difficulty), Btc(reward))
                * net_factor
                * step;
            btc += b;
            usd += b * price;
            days_in_month += step;
            day += step;
        }
        let power = power_cost.get() * 24.0 * days_in_month;
        cumulative += usd - power;
        out.push(HorizonMonth {
            month,
            difficulty: Difficulty(inputs.difficulty.get() * (1.0 + g / 100.0).powf(start_months)),
            btc_price_usd: Usd(inputs.btc_price.get() * (1.0 + p / 100.0).powf(start_months)),
            btc: Btc(btc),
            revenue_usd: Usd(usd),
            power_usd: Usd(power),
            net_usd: Usd(usd - power),
            cumulative_net_usd: Usd(cumulative),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> MiningInputs {
        MiningInputs {
            hashrate: HashRate(1e15),
            difficulty: Difficulty(148.26e12),
            height: 930_000,
            fees_per_block: Btc(0.017),
            pool_fee: Percent(0.0),
            stale: Percent(0.0),
            uptime: Percent(100.0),
            btc_price: Usd(91_132.0),
        }
    }

    #[test]
    fn subsidy_at_the_halving_edges() {
        let cases: [(u32, u64); 12] = [
            (0, 5_000_000_000),
            (1, 5_000_000_000),
            (209_999, 5_000_000_000),
            (210_000, 2_500_000_000),
            (419_999, 2_500_000_000),
            (420_000, 1_250_000_000),
            (839_999, 625_000_000),
            (840_000, 312_500_000),
            (1_049_999, 312_500_000),
            (1_050_000, 156_250_000),
            // 33rd halving: 5e9 >> 33 = 0 (the subsidy reaches zero long
            // before the shift guard matters).
            (33 * 210_000, 0),
            (32 * 210_000, 1),
        ];
        for (h, sats) in cases {
            assert_eq!(subsidy_sats(h), sats, "height {h}");
        }
    }

    #[test]
    fn subsidy_past_the_64th_halving_is_zero_not_a_shift_overflow() {
        assert_eq!(subsidy_sats(64 * 210_000 - 1), 0);
        assert_eq!(subsidy_sats(64 * 210_000), 0);
        assert_eq!(subsidy_sats(100 * 210_000), 0);
        assert_eq!(subsidy_sats(u32::MAX), 0);
    }

    #[test]
    fn one_ph_per_s_hand_computed() {
        // 1e15 × 86400 × 3.142 / (148.26e12 × 4294967296)
        //  = 2.714688e20 / 6.367719e23 = 4.263204e-4 BTC/day
        let m = estimate(&base()).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            (m.btc_per_day.get() - 4.263_204e-4).abs() < 1e-9,
            "{}",
            m.btc_per_day
        );
        assert!((m.hashprice_btc_per_ph_day - 4.263_204e-4).abs() < 1e-9);
        // × $91,132 = $38.851/PH/day; Luxor published $39.53 for the week
        // to 12 Jan 2026 (docs/sources.md §2): within 2 %.
        assert!((m.hashprice_usd_per_ph_day - 38.851).abs() < 0.01);
        assert!((m.hashprice_usd_per_ph_day / 39.53 - 1.0).abs() < 0.02);
        assert!((m.usd_per_hour.get() - 38.851 / 24.0).abs() < 1e-3);
        assert_eq!(m.subsidy_btc, Btc(3.125));
        // Network hash rate 148.26e12 × 2^32 / 600 ≈ 1,061 EH/s (Luxor:
        // 1,024 EH/s 7-day SMA, 1,052 EH/s 30-day SMA).
        assert!((m.network_hashrate.get() / 1e18 - 1061.3).abs() < 0.5);
    }

    #[test]
    fn pool_fee_stale_and_uptime_multiply() {
        let mut i = base();
        i.pool_fee = Percent(2.0);
        i.stale = Percent(1.0);
        i.uptime = Percent(50.0);
        let m = estimate(&i).unwrap_or_else(|e| panic!("{e}"));
        let gross = 4.263_204e-4;
        assert!((m.btc_per_day.get() - gross * 0.98 * 0.99 * 0.5).abs() < 1e-9);
        // Hashprice stays gross.
        assert!((m.hashprice_btc_per_ph_day - gross).abs() < 1e-9);
    }

    #[test]
    fn a_gpu_sized_hash_rate() {
        // 5 GH/s (a fast GPU) is 5e-6 PH/s: $38.851 × 5e-6 = $0.000194/day.
        let mut i = base();
        i.hashrate = HashRate(5e9);
        let m = estimate(&i).unwrap_or_else(|e| panic!("{e}"));
        assert!((m.usd_per_day.get() - 1.942_55e-4).abs() < 1e-7);
        // Solo, such a GPU would wait ~350,000 years for a block.
        assert!(m.solo_days_per_block / 365.25 > 3.0e5);
    }

    #[test]
    fn bad_inputs_name_their_field() {
        let mut i = base();
        i.difficulty = Difficulty(0.0);
        assert!(
            estimate(&i)
                .unwrap_err()
                .to_string()
                .contains("mining.difficulty")
        );
        let mut i = base();
        i.pool_fee = Percent(101.0);
        assert!(
            estimate(&i)
                .unwrap_err()
                .to_string()
                .contains("mining.pool_fee_pct")
        );
        let mut i = base();
        i.btc_price = Usd(f64::NAN);
        assert!(
            estimate(&i)
                .unwrap_err()
                .to_string()
                .contains("mining.btc_price_usd")
        );
    }

    #[test]
    fn flat_horizon_matches_the_spot_estimate() {
        let i = base();
        let h = Horizon {
            months: 3,
            difficulty_growth_pct_per_month: 0.0,
            btc_price_change_pct_per_month: 0.0,
        };
        let rows = project(&i, &h, UsdPerHour(0.0)).unwrap_or_else(|e| panic!("{e}"));
        let spot = estimate(&i).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows.len(), 3);
        for r in &rows {
            assert!((r.btc.get() / (spot.btc_per_day.get() * DAYS_PER_MONTH) - 1.0).abs() < 1e-9);
        }
        assert!((rows[2].cumulative_net_usd.get() - 3.0 * rows[0].net_usd.get()).abs() < 1e-9);
    }

    #[test]
    fn horizon_counts_difficulty_growth_and_the_halving() {
        let mut i = base();
        // 10 days before the 2028 halving.
        i.height = 1_050_000 - 1_440;
        let h = Horizon {
            months: 1,
            difficulty_growth_pct_per_month: 0.0,
            btc_price_change_pct_per_month: 0.0,
        };
        let rows = project(&i, &h, UsdPerHour(0.0)).unwrap_or_else(|e| panic!("{e}"));
        let per = |reward: f64| 86_400.0 * reward / (148.26e12 * HASHES_PER_DIFFICULTY) * 1e15;
        let expected = 10.0 * per(3.125 + 0.017) + (DAYS_PER_MONTH - 10.0) * per(1.5625 + 0.017);
        assert!((rows[0].btc.get() / expected - 1.0).abs() < 1e-9);

        let g = Horizon {
            months: 12,
            difficulty_growth_pct_per_month: 3.0,
            btc_price_change_pct_per_month: 0.0,
        };
        let rows = project(&base(), &g, UsdPerHour(0.0)).unwrap_or_else(|e| panic!("{e}"));
        assert!(rows[11].btc < rows[0].btc);
        assert!((rows[11].difficulty.get() / 148.26e12 - 1.03_f64.powi(11)).abs() < 1e-9);
    }
}
