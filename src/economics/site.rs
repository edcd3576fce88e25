//! The site view: what one megawatt of power earns as an ASIC fleet, as GPU
//! inference, as GPU mining, or curtailed and sold back.
//!
//! All figures are per MW of *facility* power at full draw. IT power is
//! `1 MW / PUE`. Revenue is modeled from the scenario's mining and inference
//! inputs; capital cost is **not** modeled (an AI data center costs roughly
//! ten times a mining site per MW, see [`presets::site::CAPEX_NOTE`]).

use super::decision::Choice;
use super::error::{self, Result};
use super::inference::InferenceEstimate;
use super::mining::{MiningEstimate, MiningInputs, PH_PER_S};
use super::presets;
use super::units::{UsdPerKwh, UsdPerMwh};
use serde::Serialize;

/// An ASIC model in the site view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteAsic {
    /// Display name.
    pub name: String,
    /// Efficiency, J/TH at the wall.
    pub j_per_th: f64,
    /// Source of the efficiency figure.
    pub source: String,
}

/// Site-view inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteInputs {
    /// Price the site pays for power.
    pub power_price: UsdPerMwh,
    /// Price it gets for power it curtails and sells back.
    pub sell_back: UsdPerMwh,
    /// ASIC fleets to compare.
    pub asics: Vec<SiteAsic>,
}

impl SiteInputs {
    /// Defaults: power at `electricity`, sold back at the same price, S21 XP
    /// and S21 fleets.
    pub fn default_for(electricity: UsdPerKwh) -> Self {
        let asics = ["s21-xp", "s21"]
            .iter()
            .filter_map(|k| presets::asic(k))
            .map(|a| SiteAsic {
                name: a.name.to_owned(),
                j_per_th: a.j_per_th,
                source: a.source.to_owned(),
            })
            .collect();
        SiteInputs {
            power_price: electricity.per_mwh(),
            sell_back: electricity.per_mwh(),
            asics,
        }
    }

    /// Checks the inputs.
    ///
    /// # Errors
    /// Negative or non-finite prices, non-positive J/TH.
    pub fn validate(&self) -> Result<()> {
        error::non_negative("site.power_usd_per_mwh", self.power_price.get())?;
        error::finite("site.sell_back_usd_per_mwh", self.sell_back.get())?;
        for a in &self.asics {
            error::positive("site.custom_asics.j_per_th", a.j_per_th)?;
        }
        Ok(())
    }
}

/// One way to use a megawatt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteOption {
    /// Display name.
    pub name: String,
    /// Which per-GPU choice it corresponds to (`mine` for ASIC and GPU
    /// mining, `infer`, or `idle` for curtailment).
    pub kind: Choice,
    /// Gross revenue per hour per MW of facility capacity, USD (modeled).
    pub revenue_usd_per_mw_hour: f64,
    /// Average facility power drawn, MW per MW of capacity (inference at
    /// partial utilization idles part of the time).
    pub average_draw_mw: f64,
    /// Revenue minus power per MW-hour of capacity, USD.
    pub net_usd_per_mw_hour: f64,
    /// Net per MW-year (8,760 h), USD.
    pub net_usd_per_mw_year: f64,
    /// Power price at which this option's net is zero, USD/MWh.
    pub breakeven_power_usd_per_mwh: f64,
    /// Where the efficiency figure comes from.
    pub source: String,
}

/// A reference figure that is cited, not modeled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteReference {
    /// What it is.
    pub name: &'static str,
    /// USD per MW-year.
    pub usd_per_mw_year: f64,
    /// Citation.
    pub source: &'static str,
}

/// Winner at one power price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceRow {
    /// Power price, USD/MWh.
    pub power_usd_per_mwh: f64,
    /// Best option's name.
    pub winner: String,
    /// Its net per MW-hour.
    pub net_usd_per_mw_hour: f64,
}

/// The site view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteView {
    /// Power price used.
    pub power_usd_per_mwh: f64,
    /// PUE used.
    pub pue: f64,
    /// Options, best first.
    pub options: Vec<SiteOption>,
    /// Name of the best option at the site's price.
    pub winner: String,
    /// Winner at power prices from 0 to 200 USD/MWh in steps of 20.
    pub by_power_price: Vec<PriceRow>,
    /// Cited AI-lease and mining references, not modeled.
    pub references: Vec<SiteReference>,
    /// What is left out.
    pub capex_note: &'static str,
}

/// Inputs the site view needs from the per-GPU evaluation.
pub(crate) struct SiteContext<'a> {
    pub mining_inputs: &'a MiningInputs,
    pub mining: &'a MiningEstimate,
    pub inference: &'a InferenceEstimate,
    pub utilization: f64,
    pub pue: f64,
    pub mining_watts: f64,
    pub inference_watts: f64,
    pub idle_watts: f64,
}

fn option(
    name: String,
    kind: Choice,
    revenue: f64,
    draw: f64,
    price: f64,
    source: String,
) -> SiteOption {
    let net = revenue - price * draw;
    SiteOption {
        name,
        kind,
        revenue_usd_per_mw_hour: revenue,
        average_draw_mw: draw,
        net_usd_per_mw_hour: net,
        net_usd_per_mw_year: net * 8760.0,
        breakeven_power_usd_per_mwh: if draw > 0.0 {
            revenue / draw
        } else {
            f64::INFINITY
        },
        source,
    }
}

fn options_at(site: &SiteInputs, c: &SiteContext<'_>, price: f64) -> Vec<SiteOption> {
    let it_watts = 1e6 / c.pue;
    let net_factor = (1.0 - c.mining_inputs.pool_fee.fraction())
        * (1.0 - c.mining_inputs.stale.fraction())
        * c.mining_inputs.uptime.fraction();
    let usd_per_ph_hour = c.mining.hashprice_usd_per_ph_day * net_factor / 24.0;
    let mut out = Vec::new();
    for a in &site.asics {
        let ph = it_watts / a.j_per_th * 1e12 / PH_PER_S;
        out.push(option(
            format!("ASIC fleet: {} ({} J/TH)", a.name, a.j_per_th),
            Choice::Mine,
            ph * usd_per_ph_hour,
            1.0,
            price,
            a.source.clone(),
        ));
    }
    if c.inference_watts > 0.0 {
        let gpus = it_watts / c.inference_watts;
        let u = c.utilization;
        let draw = u + (1.0 - u) * c.idle_watts / c.inference_watts;
        out.push(option(
            format!("GPU inference ({:.0} GPUs)", gpus),
            Choice::Infer,
            gpus * c.inference.usd_per_hour.get(),
            draw,
            price,
            format!("modeled ({} method)", c.inference.method),
        ));
    }
    if c.mining_watts > 0.0 {
        let gpus = it_watts / c.mining_watts;
        out.push(option(
            format!("GPU mining ({:.0} GPUs)", gpus),
            Choice::Mine,
            gpus * c.mining.usd_per_hour.get(),
            1.0,
            price,
            "per-GPU hash rate and watts from the scenario".into(),
        ));
    }
    // Curtailing: sell the power back. With the default sell-back price equal
    // to the power price this nets zero at any price.
    let sell = if (site.sell_back.get() - site.power_price.get()).abs() < 1e-12 {
        price
    } else {
        site.sell_back.get()
    };
    out.push(option(
        "Curtail / sell power back".into(),
        Choice::Idle,
        sell,
        1.0,
        price,
        "sell-back price".into(),
    ));
    out.sort_by(|a, b| b.net_usd_per_mw_hour.total_cmp(&a.net_usd_per_mw_hour));
    out
}

pub(crate) fn view(site: &SiteInputs, c: &SiteContext<'_>) -> SiteView {
    let price = site.power_price.get();
    let options = options_at(site, c, price);
    let winner = options.first().map(|o| o.name.clone()).unwrap_or_default();
    let by_power_price = (0..=10)
        .map(|i| {
            let p = f64::from(i) * 20.0;
            let o = options_at(site, c, p);
            let best = o.first();
            PriceRow {
                power_usd_per_mwh: p,
                winner: best.map(|b| b.name.clone()).unwrap_or_default(),
                net_usd_per_mw_hour: best.map_or(0.0, |b| b.net_usd_per_mw_hour),
            }
        })
        .collect();
    SiteView {
        power_usd_per_mwh: price,
        pue: c.pue,
        options,
        winner,
        by_power_price,
        references: vec![
            SiteReference {
                name: "AI/HPC lease: Core Scientific-CoreWeave (200 MW, 12 yr)",
                usd_per_mw_year: presets::site::AI_LEASE_CORE_SCIENTIFIC_USD_PER_MW_YEAR,
                source: "D from CNBC via ForkLog, Jun 2024 S",
            },
            SiteReference {
                name: "AI/HPC lease: TeraWulf-Fluidstack (~200 MW, 10 yr)",
                usd_per_mw_year: presets::site::AI_LEASE_TERAWULF_USD_PER_MW_YEAR,
                source: "D from CryptoSlate, Aug 2025 S",
            },
            SiteReference {
                name: "Mining gross revenue, <19 J/TH fleet ($97/MWh x 8760 h)",
                usd_per_mw_year: presets::site::LUXOR_SUB19_USD_PER_MWH * 8760.0,
                source: "Luxor Hashrate Index, 12 Jan 2026 P (gross, before power)",
            },
        ],
        capex_note: presets::site::CAPEX_NOTE,
    }
}
