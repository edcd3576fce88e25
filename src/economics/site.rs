//! The site view: what a data-center megawatt earns over a horizon as an
//! ASIC fleet, leased to an AI tenant, as a GPU cloud you run yourself, as
//! GPUs mining, or curtailed, ranked by net present value.
//!
//! Every figure is per MW of **facility** power (the site's grid
//! connection); the IT power of each hall is `1 MW / PUE` of that hall. A
//! month is 730.5 hours (365.25 days / 12); a year is twelve months.
//!
//! For each option and each month `m = 1 ..= horizon`:
//!
//! * **`asic:<key>`**: `units = 1 MW / mining PUE / wall watts`; hash rate =
//!   units × TH/s; revenue from [`mining::project`] (difficulty growth, BTC
//!   price change, halvings by height, fees, pool fee, stale rate, uptime);
//!   power = price × 730.5 h × uptime. Capex = TH/s × USD per TH. A month in
//!   which revenue does not cover power is a month the fleet is switched off
//!   (cash flow 0): an operator does not run machines at a loss.
//! * **`ai-lease`**: revenue = lease USD per MW-year × (1 / AI PUE) / 12
//!   (leases are priced per MW of IT load); power = price × 730.5 h unless
//!   the tenant pays for power. Capex = fit-out USD per MW.
//! * **`gpu-cloud`**: `units = 1 MW / AI PUE / server watts per GPU`; revenue
//!   = units × rental USD/h × (1 − marketplace fee) × utilization × 730.5 h;
//!   power = price × 730.5 h × (u + (1 − u) × idle watts / inference watts).
//!   Capex = fit-out per MW + units × server price per GPU. Servers earn for
//!   their service life, then retire; if the horizon ends first, their
//!   straight-line residual value is credited in the last month.
//! * **`gpu-mining`**: the same GPUs and capex, mining at the scenario's
//!   per-GPU hash rate at full server power (and switched off in months
//!   that do not cover their power).
//! * **`curtail`**: stay off; revenue = curtail USD/MWh × 730.5 h (a
//!   demand-response payment or power sold back; 0 by default), no power.
//!
//! First-year figures are the sums of months 1–12 at full operation (no
//! switch-off), `net = revenue − opex` with opex the power bill. NPV =
//! −capex + Σ cash flow(m) / (1 + r)^(m/12) with `r` the yearly discount
//! rate. Payback is the first month whose cumulative (undiscounted) cash
//! flow covers the capex, in years (`None` if not within the horizon). The
//! break-even power price is the price at which the first-year net is zero.

use super::error::{self, Result};
use super::inputs::{self, Value, key};
use super::mining::{self, Horizon, MiningInputs};
use super::units::{HashRate, Percent, UsdPerMwh, Watts};
use serde::Serialize;

/// Hours in a month: 365.25 × 24 / 12.
pub const HOURS_PER_MONTH: f64 = 730.5;

/// An ASIC model in the site view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteAsic {
    /// Option id suffix (`asic:<key>`).
    pub key: String,
    /// Display name.
    pub name: String,
    /// Hash rate of one machine, TH/s (`None` for a custom ASIC given only
    /// by its efficiency: units per MW are then not known).
    pub th_per_s: Option<f64>,
    /// Efficiency, J/TH at the wall.
    pub j_per_th: f64,
    /// Source of the figures.
    pub source: String,
}

/// Site-view inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteInputs {
    /// Site size, MW of facility power (totals are per-MW figures × this).
    pub power_mw: f64,
    /// Price the site pays for power; `None`: the scenario's electricity
    /// price.
    pub power_price: Option<UsdPerMwh>,
    /// Paid per MWh not drawn when curtailing (0: just stay off).
    pub curtail_price: UsdPerMwh,
    /// NPV horizon in months.
    pub horizon_months: u32,
    /// Discount rate, percent per year.
    pub discount_rate: Percent,
    /// ASIC fleets to compare.
    pub asics: Vec<SiteAsic>,
    /// PUE of the mining facility.
    pub mining_pue: f64,
    /// PUE of the AI hall (lease and GPU options).
    pub ai_pue: f64,
    /// ASIC purchase price, USD per TH/s.
    pub asic_capex_usd_per_th: f64,
    /// AI lease income, USD per MW of IT load per year.
    pub lease_usd_per_mw_year: f64,
    /// Fit-out capex of the AI hall, USD per MW of facility power.
    pub lease_capex_usd_per_mw: f64,
    /// Whether the AI tenant pays for its own power.
    pub tenant_pays_power: bool,
    /// GPU server wall power per GPU (host, NICs, fans included).
    pub server_watts_per_gpu: Watts,
    /// GPU server price per GPU it holds, USD (`None`: not known, the GPU
    /// options are left out).
    pub gpu_server_capex_usd: Option<f64>,
    /// Service life of the GPU servers, months.
    pub server_life_months: u32,
    /// Marketplace fee on GPU rental revenue, percent.
    pub marketplace_fee: Percent,
    /// GPU rental price, USD per GPU-hour.
    pub rental_usd_per_hour: f64,
}

impl SiteInputs {
    /// The defaults the scenario resolver uses, for `gpu` in halls of PUE
    /// `pue`, with the S21 XP and S21 fleets and the site price following
    /// the electricity price.
    pub fn defaults(gpu: &crate::hardware::GpuSpec, pue: f64) -> Self {
        let asics = ["s21-xp", "s21"]
            .iter()
            .filter_map(|k| crate::hardware::asic(k))
            .map(|a| SiteAsic {
                key: a.key.to_owned(),
                name: a.name.to_owned(),
                th_per_s: Some(a.th_per_s),
                j_per_th: a.j_per_th,
                source: a.source.to_owned(),
            })
            .collect();
        SiteInputs {
            power_mw: 1.0,
            power_price: None,
            curtail_price: UsdPerMwh(0.0),
            horizon_months: 60,
            discount_rate: Percent(10.0),
            asics,
            mining_pue: pue,
            ai_pue: pue,
            asic_capex_usd_per_th: crate::hardware::ASIC_USD_PER_TH.value,
            lease_usd_per_mw_year: super::presets::site::AI_LEASE_CORE_SCIENTIFIC_USD_PER_MW_YEAR,
            lease_capex_usd_per_mw: super::presets::site::AI_FIT_OUT_USD_PER_MW,
            tenant_pays_power: false,
            server_watts_per_gpu: gpu.server_watts().0,
            gpu_server_capex_usd: gpu.server_capex_usd_per_gpu.map(|c| c.value),
            server_life_months: 48,
            marketplace_fee: Percent(0.0),
            rental_usd_per_hour: super::presets::rental(gpu.key).map_or(0.0, |r| r.usd_per_hour),
        }
    }

    /// Each input under its scenario key, as reports echo it, with
    /// `default_price` standing for an unset site power price;
    /// [`Self::validate`] checks each by its key's [`inputs::Rule`].
    pub fn values(&self, default_price: UsdPerMwh) -> Vec<(&'static str, Value)> {
        let price = self.power_price.unwrap_or(default_price);
        let asics: Vec<&str> = self.asics.iter().map(|a| a.key.as_str()).collect();
        vec![
            (key!(site.power_mw), self.power_mw.into()),
            (key!(site.power_usd_per_mwh), price.get().into()),
            (
                key!(site.curtail_usd_per_mwh),
                self.curtail_price.get().into(),
            ),
            (inputs::SITE_HORIZON_MONTHS, self.horizon_months.into()),
            (
                key!(site.discount_rate_pct),
                self.discount_rate.get().into(),
            ),
            (key!(site.mining_pue), self.mining_pue.into()),
            (key!(site.ai_pue), self.ai_pue.into()),
            (
                key!(site.asic_capex_usd_per_th),
                self.asic_capex_usd_per_th.into(),
            ),
            (
                key!(site.lease_usd_per_mw_year),
                self.lease_usd_per_mw_year.into(),
            ),
            (
                key!(site.lease_capex_usd_per_mw),
                self.lease_capex_usd_per_mw.into(),
            ),
            (
                key!(site.tenant_pays_power),
                Value::of(self.tenant_pays_power),
            ),
            (
                key!(site.server_watts_per_gpu),
                self.server_watts_per_gpu.get().into(),
            ),
            (
                key!(site.gpu_server_capex_usd),
                self.gpu_server_capex_usd.into(),
            ),
            (
                key!(site.server_life_months),
                self.server_life_months.into(),
            ),
            (
                key!(site.marketplace_fee_pct),
                self.marketplace_fee.get().into(),
            ),
            (
                inputs::SITE_RENTAL_USD_PER_HOUR,
                self.rental_usd_per_hour.into(),
            ),
            (key!(site.asics), Value::of(asics)),
        ]
    }

    /// Checks the inputs.
    ///
    /// # Errors
    /// Negative or non-finite prices, PUE below 1, non-positive J/TH, ...
    pub fn validate(&self) -> Result<()> {
        // An unset site price follows the electricity price, checked there.
        inputs::check_all(&self.values(UsdPerMwh(0.0)))?;
        for a in &self.asics {
            error::positive("site.custom_asics.j_per_th", a.j_per_th)?;
        }
        Ok(())
    }
}

/// The per-GPU inputs the site view reuses.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuContext {
    /// Per-GPU SHA-256d rate (for `gpu-mining`).
    pub hashrate: HashRate,
    /// Inference utilization, 0–1.
    pub utilization: f64,
    /// Idle watts over inference watts (server draw while unrented).
    pub idle_share: f64,
}

/// One way to use the site's power.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteOption {
    /// `asic:<key>`, `ai-lease`, `gpu-cloud`, `gpu-mining` or `curtail`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Machines or GPUs per MW (`None` for the lease and curtailment).
    pub units: Option<f64>,
    /// First-year revenue per MW, USD (modeled).
    pub revenue_usd_per_mw_year: f64,
    /// First-year opex (power) per MW, USD.
    pub opex_usd_per_mw_year: f64,
    /// First-year revenue − opex, before capex, USD per MW.
    pub net_usd_per_mw_year: f64,
    /// Capital cost per MW, USD.
    pub capex_usd_per_mw: f64,
    /// Net present value per MW over the horizon, USD.
    pub npv_usd_per_mw: f64,
    /// Years until cumulative cash flow covers capex (`None`: not within
    /// the horizon).
    pub payback_years: Option<f64>,
    /// Power price at which the first-year net is zero, USD/MWh (`None`
    /// when the option buys no power).
    pub breakeven_power_usd_per_mwh: Option<f64>,
    /// What the figures rest on.
    pub basis: String,
}

/// Winner at one power price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceRow {
    /// Power price, USD/MWh.
    pub power_usd_per_mwh: f64,
    /// Best option's id.
    pub winner: String,
    /// Its NPV per MW.
    pub npv_usd_per_mw: f64,
}

/// The site view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteView {
    /// Site size, MW.
    pub power_mw: f64,
    /// Power price used, USD/MWh.
    pub power_usd_per_mwh: f64,
    /// NPV horizon, months.
    pub horizon_months: u32,
    /// Discount rate, percent per year.
    pub discount_rate_pct: f64,
    /// Id of the option with the highest NPV.
    pub winner: String,
    /// Options, highest NPV first.
    pub options: Vec<SiteOption>,
    /// Winner at power prices from 0 to 200 USD/MWh in steps of 20.
    pub by_power_price: Vec<PriceRow>,
    /// Options left out, and why.
    pub notes: Vec<String>,
}

/// The monthly cash flows of one option.
struct Flows {
    revenue: Vec<f64>,
    power: Vec<f64>,
    /// MWh bought per month (for the break-even price).
    mwh: Vec<f64>,
    /// Cash flow used for NPV and payback (after switch-off, residual).
    cash: Vec<f64>,
    capex: f64,
}

fn months(n: u32) -> std::ops::RangeInclusive<u32> {
    1..=n
}

/// The mining revenue per month of `hashrate` H/s over `n` months.
fn mining_revenue(
    inputs: &MiningInputs,
    horizon: &Horizon,
    hashrate: f64,
    n: u32,
) -> Result<Vec<f64>> {
    let mut mi = inputs.clone();
    mi.hashrate = HashRate(hashrate);
    let h = Horizon {
        months: n,
        ..*horizon
    };
    Ok(mining::project(&mi, &h, super::units::UsdPerHour(0.0))?
        .into_iter()
        .map(|m| m.revenue_usd.get())
        .collect())
}

fn npv(cash: &[f64], capex: f64, rate_pct: f64) -> f64 {
    let r = 1.0 + rate_pct / 100.0;
    cash.iter()
        .enumerate()
        .map(|(i, c)| c / r.powf((i as f64 + 1.0) / 12.0))
        .sum::<f64>()
        - capex
}

fn payback(cash: &[f64], capex: f64) -> Option<f64> {
    if capex <= 0.0 {
        return Some(0.0);
    }
    let mut cumulative = 0.0;
    for (i, c) in cash.iter().enumerate() {
        cumulative += c;
        if cumulative >= capex {
            return Some((i as f64 + 1.0) / 12.0);
        }
    }
    None
}

struct Ctx<'a> {
    site: &'a SiteInputs,
    mining: &'a MiningInputs,
    horizon: &'a Horizon,
    gpu: &'a GpuContext,
    price: f64,
}

impl Ctx<'_> {
    /// Months to compute: the horizon, and at least the first year.
    fn span(&self) -> u32 {
        self.site.horizon_months.max(12)
    }

    fn mining_flows(&self, hashrate: f64, draw_mw: f64, life: u32, capex: f64) -> Result<Flows> {
        let n = self.span();
        let revenue = mining_revenue(self.mining, self.horizon, hashrate, n)?;
        let up = self.mining.uptime.fraction();
        let mut f = Flows {
            revenue: Vec::new(),
            power: Vec::new(),
            mwh: Vec::new(),
            cash: Vec::new(),
            capex,
        };
        for (m, r) in months(n).zip(revenue) {
            let running = m <= life;
            let mwh = if running {
                draw_mw * HOURS_PER_MONTH * up
            } else {
                0.0
            };
            let r = if running { r } else { 0.0 };
            let p = mwh * self.price;
            f.revenue.push(r);
            f.power.push(p);
            f.mwh.push(mwh);
            f.cash.push((r - p).max(0.0));
        }
        Ok(f)
    }

    fn asic(&self, a: &SiteAsic) -> Result<(Option<f64>, Flows)> {
        let it_watts = 1e6 / self.site.mining_pue;
        let th = it_watts / a.j_per_th;
        let units = a.th_per_s.map(|t| th / t);
        let f = self.mining_flows(
            th * 1e12,
            1.0,
            u32::MAX,
            th * self.site.asic_capex_usd_per_th,
        )?;
        Ok((units, f))
    }

    fn lease(&self) -> Flows {
        let n = self.span();
        let revenue = self.site.lease_usd_per_mw_year / self.site.ai_pue / 12.0;
        let mwh = if self.site.tenant_pays_power {
            0.0
        } else {
            HOURS_PER_MONTH
        };
        let power = mwh * self.price;
        Flows {
            revenue: vec![revenue; n as usize],
            power: vec![power; n as usize],
            mwh: vec![mwh; n as usize],
            cash: vec![revenue - power; n as usize],
            capex: self.site.lease_capex_usd_per_mw,
        }
    }

    fn gpus(&self) -> f64 {
        1e6 / self.site.ai_pue / self.site.server_watts_per_gpu.get()
    }

    fn gpu_capex(&self, per_gpu: f64) -> (f64, f64) {
        let servers = self.gpus() * per_gpu;
        (self.site.lease_capex_usd_per_mw + servers, servers)
    }

    /// Straight-line residual of the servers when the horizon ends before
    /// their life does.
    fn residual(&self, servers: f64) -> f64 {
        let life = f64::from(self.site.server_life_months.max(1));
        servers * (1.0 - f64::from(self.site.horizon_months) / life).max(0.0)
    }

    fn cloud(&self, per_gpu: f64) -> Flows {
        let n = self.span();
        let gpus = self.gpus();
        let u = self.gpu.utilization;
        let (capex, servers) = self.gpu_capex(per_gpu);
        let fee = 1.0 - self.site.marketplace_fee.fraction();
        let draw = u + (1.0 - u) * self.gpu.idle_share;
        let mut f = Flows {
            revenue: Vec::new(),
            power: Vec::new(),
            mwh: Vec::new(),
            cash: Vec::new(),
            capex,
        };
        for m in months(n) {
            let running = m <= self.site.server_life_months;
            let (r, mwh) = if running {
                (
                    gpus * self.site.rental_usd_per_hour * fee * u * HOURS_PER_MONTH,
                    draw * HOURS_PER_MONTH,
                )
            } else {
                (0.0, 0.0)
            };
            let p = mwh * self.price;
            f.revenue.push(r);
            f.power.push(p);
            f.mwh.push(mwh);
            f.cash.push(r - p);
        }
        self.add_residual(&mut f, servers);
        f
    }

    fn add_residual(&self, f: &mut Flows, servers: f64) {
        let h = self.site.horizon_months as usize;
        if h > 0 && h <= f.cash.len() {
            f.cash[h - 1] += self.residual(servers);
        }
    }

    fn gpu_mining(&self, per_gpu: f64) -> Result<Flows> {
        let (capex, servers) = self.gpu_capex(per_gpu);
        let mut f = self.mining_flows(
            self.gpus() * self.gpu.hashrate.get(),
            1.0,
            self.site.server_life_months,
            capex,
        )?;
        self.add_residual(&mut f, servers);
        Ok(f)
    }

    fn curtail(&self) -> Flows {
        let n = self.span() as usize;
        let r = self.site.curtail_price.get() * HOURS_PER_MONTH;
        Flows {
            revenue: vec![r; n],
            power: vec![0.0; n],
            mwh: vec![0.0; n],
            cash: vec![r; n],
            capex: 0.0,
        }
    }

    fn option(
        &self,
        id: String,
        name: String,
        units: Option<f64>,
        f: Flows,
        basis: String,
    ) -> SiteOption {
        let h = self.site.horizon_months as usize;
        let first = |v: &[f64]| v.iter().take(12).sum::<f64>();
        let (revenue, opex, mwh) = (first(&f.revenue), first(&f.power), first(&f.mwh));
        let cash = &f.cash[..h.min(f.cash.len())];
        SiteOption {
            id,
            name,
            units,
            revenue_usd_per_mw_year: revenue,
            opex_usd_per_mw_year: opex,
            net_usd_per_mw_year: revenue - opex,
            capex_usd_per_mw: f.capex,
            npv_usd_per_mw: npv(cash, f.capex, self.site.discount_rate.get()),
            payback_years: payback(cash, f.capex),
            breakeven_power_usd_per_mwh: (mwh > 0.0).then(|| revenue / mwh),
            basis,
        }
    }

    fn options(&self) -> Result<(Vec<SiteOption>, Vec<String>)> {
        let mut out = Vec::new();
        let mut notes = Vec::new();
        for a in &self.site.asics {
            let (units, f) = self.asic(a)?;
            out.push(self.option(
                format!("asic:{}", a.key),
                format!("{} ({} J/TH)", a.name, a.j_per_th),
                units,
                f,
                format!(
                    "modeled: fleet at mining PUE {}, ${}/TH; {}",
                    self.site.mining_pue, self.site.asic_capex_usd_per_th, a.source
                ),
            ));
        }
        out.push(self.option(
            "ai-lease".into(),
            "Lease the powered shell to an AI tenant".into(),
            None,
            self.lease(),
            format!(
                "modeled: ${}/MW-year of IT load at AI PUE {}, {}",
                self.site.lease_usd_per_mw_year,
                self.site.ai_pue,
                if self.site.tenant_pays_power {
                    "tenant pays power"
                } else {
                    "host pays power"
                }
            ),
        ));
        match self.site.gpu_server_capex_usd {
            Some(per_gpu) => {
                let gpus = self.gpus();
                out.push(self.option(
                    "gpu-cloud".into(),
                    "Run GPU servers and rent them out".into(),
                    Some(gpus),
                    self.cloud(per_gpu),
                    format!(
                        "modeled: {:.0} GPUs at {:.0} W server power each, ${}/GPU-h at {:.0} % \
                         utilization",
                        gpus,
                        self.site.server_watts_per_gpu.get(),
                        self.site.rental_usd_per_hour,
                        self.gpu.utilization * 100.0
                    ),
                ));
                out.push(self.option(
                    "gpu-mining".into(),
                    "Mine SHA-256d on the same GPUs".into(),
                    Some(gpus),
                    self.gpu_mining(per_gpu)?,
                    format!(
                        "modeled: {:.0} GPUs at {} each",
                        gpus,
                        super::report::hashrate(self.gpu.hashrate.get())
                    ),
                ));
            }
            None => notes.push(
                "gpu-cloud and gpu-mining left out: no published server price for this GPU; \
                 set site.gpu_server_capex_usd (--gpu-server-capex-usd)"
                    .into(),
            ),
        }
        out.push(self.option(
            "curtail".into(),
            "Curtail: stay off or sell the power back".into(),
            None,
            self.curtail(),
            format!(
                "${}/MWh paid for power not drawn",
                self.site.curtail_price.get()
            ),
        ));
        out.sort_by(|a, b| b.npv_usd_per_mw.total_cmp(&a.npv_usd_per_mw));
        Ok((out, notes))
    }
}

/// Computes the site view: every option at the site's power price, ranked by
/// NPV, and the winner at power prices from 0 to 200 USD/MWh.
///
/// `electricity` is the scenario's power price, used when the site has none
/// of its own.
///
/// # Errors
/// Invalid inputs, named by field.
pub fn view(
    site: &SiteInputs,
    mining: &MiningInputs,
    horizon: &Horizon,
    gpu: &GpuContext,
    electricity: UsdPerMwh,
) -> Result<SiteView> {
    site.validate()?;
    let price = site.power_price.unwrap_or(electricity).get();
    let ctx = |price| Ctx {
        site,
        mining,
        horizon,
        gpu,
        price,
    };
    let (options, notes) = ctx(price).options()?;
    let by_power_price = (0..=10)
        .map(|i| {
            let p = f64::from(i) * 20.0;
            let (o, _) = ctx(p).options()?;
            Ok(PriceRow {
                power_usd_per_mwh: p,
                winner: o.first().map(|b| b.id.clone()).unwrap_or_default(),
                npv_usd_per_mw: o.first().map_or(0.0, |b| b.npv_usd_per_mw),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(SiteView {
        power_mw: site.power_mw,
        power_usd_per_mwh: price,
        horizon_months: site.horizon_months,
        discount_rate_pct: site.discount_rate.get(),
        winner: options.first().map(|o| o.id.clone()).unwrap_or_default(),
        options,
        by_power_price,
        notes,
    })
}

/// The options at one power price (for plots): first-year net and NPV per
/// option id.
///
/// # Errors
/// As [`view`].
pub fn options_at(
    site: &SiteInputs,
    mining: &MiningInputs,
    horizon: &Horizon,
    gpu: &GpuContext,
    price: UsdPerMwh,
) -> Result<Vec<SiteOption>> {
    let ctx = Ctx {
        site,
        mining,
        horizon,
        gpu,
        price: price.get(),
    };
    Ok(ctx.options()?.0)
}

/// The site view of a resolved scenario: its site inputs, its mining inputs
/// and horizon growth rates, and its per-GPU hash rate, utilization and idle
/// share; the site's power price defaults to the scenario's electricity.
///
/// # Errors
/// Invalid inputs, named by field.
pub fn evaluate(s: &super::Scenario) -> Result<SiteView> {
    let gpu = gpu_context(s);
    view(
        &s.site,
        &s.mining,
        &s.horizon,
        &gpu,
        s.power.electricity.per_mwh(),
    )
}

/// One option's first-year net across power prices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceSeries {
    /// Option id.
    pub id: String,
    /// First-year net per MW at each price of [`PriceSweep::prices`], USD.
    pub net_usd_per_mw_year: Vec<f64>,
    /// Power price at which the first-year net is zero, USD/MWh.
    pub breakeven_power_usd_per_mwh: Option<f64>,
}

/// Every site option's first-year net from 0 to 200 USD/MWh (for the chart).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceSweep {
    /// Power prices, USD/MWh.
    pub prices: Vec<f64>,
    /// The site's own price, USD/MWh.
    pub current: f64,
    /// One series per option, in the order of the site view's ranking.
    pub options: Vec<PriceSeries>,
}

/// Sweeps the power price of a scenario's site view from 0 to 200 USD/MWh in
/// steps of 5.
///
/// # Errors
/// Invalid inputs, named by field.
pub fn price_sweep(s: &super::Scenario) -> Result<PriceSweep> {
    let here = evaluate(s)?;
    let gpu = gpu_context(s);
    let prices: Vec<f64> = (0..=40).map(|i| f64::from(i) * 5.0).collect();
    let mut options: Vec<PriceSeries> = here
        .options
        .iter()
        .map(|o| PriceSeries {
            id: o.id.clone(),
            net_usd_per_mw_year: Vec::with_capacity(prices.len()),
            breakeven_power_usd_per_mwh: o.breakeven_power_usd_per_mwh,
        })
        .collect();
    for p in &prices {
        let at = options_at(&s.site, &s.mining, &s.horizon, &gpu, UsdPerMwh(*p))?;
        for series in &mut options {
            let net = at
                .iter()
                .find(|o| o.id == series.id)
                .map_or(f64::NAN, |o| o.net_usd_per_mw_year);
            series.net_usd_per_mw_year.push(net);
        }
    }
    Ok(PriceSweep {
        prices,
        current: here.power_usd_per_mwh,
        options,
    })
}

fn gpu_context(s: &super::Scenario) -> GpuContext {
    let inference = s.power.inference_watts.get();
    GpuContext {
        hashrate: s.mining.hashrate,
        utilization: s.utilization.fraction(),
        idle_share: if inference > 0.0 {
            (s.power.idle_watts.get() / inference).min(1.0)
        } else {
            0.0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::economics::units::{Btc, Difficulty, Usd};

    fn mining() -> MiningInputs {
        MiningInputs {
            hashrate: HashRate(1e9),
            difficulty: Difficulty(100e12),
            // Subsidy 3.125 BTC until 1,050,000; + 0.125 BTC fees = 3.25 BTC.
            height: 900_000,
            fees_per_block: Btc(0.125),
            pool_fee: Percent(0.0),
            stale: Percent(0.0),
            uptime: Percent(100.0),
            btc_price: Usd(100_000.0),
        }
    }

    fn flat() -> Horizon {
        Horizon {
            months: 0,
            difficulty_growth_pct_per_month: 0.0,
            btc_price_change_pct_per_month: 0.0,
        }
    }

    fn site() -> SiteInputs {
        SiteInputs {
            power_mw: 1.0,
            power_price: Some(UsdPerMwh(50.0)),
            curtail_price: UsdPerMwh(10.0),
            horizon_months: 120,
            discount_rate: Percent(8.0),
            asics: vec![SiteAsic {
                key: "test".into(),
                name: "Test miner".into(),
                th_per_s: Some(200.0),
                j_per_th: 10.0,
                source: "test".into(),
            }],
            mining_pue: 1.25,
            ai_pue: 1.2,
            asic_capex_usd_per_th: 20.0,
            lease_usd_per_mw_year: 1.2e6,
            lease_capex_usd_per_mw: 3e6,
            tenant_pays_power: false,
            server_watts_per_gpu: Watts(1000.0),
            gpu_server_capex_usd: Some(30_000.0),
            server_life_months: 48,
            marketplace_fee: Percent(10.0),
            rental_usd_per_hour: 2.0,
        }
    }

    fn gpu() -> GpuContext {
        GpuContext {
            hashrate: HashRate(1e9),
            utilization: 0.5,
            idle_share: 0.1,
        }
    }

    fn find<'a>(v: &'a SiteView, id: &str) -> &'a SiteOption {
        v.options
            .iter()
            .find(|o| o.id == id)
            .unwrap_or_else(|| panic!("no {id}"))
    }

    fn close(a: f64, b: f64, what: &str) {
        assert!(
            (a - b).abs() <= 1e-6 * b.abs().max(1.0),
            "{what}: {a} vs {b}"
        );
    }

    /// Every option's first-year figures against a calculation by hand.
    #[test]
    fn first_year_figures_match_a_hand_calculation() {
        let mut s = site();
        // The GPU halls' PUE 1.25 here so that 1 MW holds exactly 800 GPUs.
        s.ai_pue = 1.25;
        let v =
            view(&s, &mining(), &flat(), &gpu(), UsdPerMwh(0.0)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.power_usd_per_mwh, 50.0);
        let year_h = 365.25 * 24.0; // 8,766 h
        let power = 50.0 * year_h; // $438,300 at full draw

        // ASIC: 1 MW / 1.25 = 800 kW of IT / 10 J/TH = 80,000 TH/s = 8e16 H/s.
        // BTC/day = 8e16 × 86,400 × 3.25 / (1e14 × 2^32) = 0.0523031 BTC.
        let btc_day = 8e16 * 86_400.0 * 3.25 / (100e12 * 4_294_967_296.0);
        close(btc_day, 0.052_303_075_79, "BTC/day");
        let a = find(&v, "asic:test");
        close(a.revenue_usd_per_mw_year, 1_910_369.843, "asic revenue");
        close(a.opex_usd_per_mw_year, 438_300.0, "asic opex");
        close(a.net_usd_per_mw_year, 1_910_369.843 - 438_300.0, "asic net");
        close(a.capex_usd_per_mw, 80_000.0 * 20.0, "asic capex");
        close(a.units.unwrap_or(0.0), 400.0, "asic units");

        // Lease: $1.2M per MW of IT × 1/1.25; the host pays the power.
        let l = find(&v, "ai-lease");
        close(l.revenue_usd_per_mw_year, 960_000.0, "lease revenue");
        close(l.opex_usd_per_mw_year, power, "lease opex");
        close(l.capex_usd_per_mw, 3e6, "lease capex");
        assert_eq!(l.units, None);

        // GPU cloud: 800 GPUs × $2 × 0.9 × 0.5 × 8,766 h = $6,311,520;
        // draw 0.5 + 0.5 × 0.1 = 0.55 → $241,065; capex $3M + 800 × $30k.
        let c = find(&v, "gpu-cloud");
        close(c.units.unwrap_or(0.0), 800.0, "gpus");
        close(c.revenue_usd_per_mw_year, 6_311_520.0, "cloud revenue");
        close(c.opex_usd_per_mw_year, 241_065.0, "cloud opex");
        close(c.capex_usd_per_mw, 27e6, "cloud capex");

        // GPU mining: 800 × 1 GH/s = 8e11 H/s, 1e-5 of the ASIC fleet.
        let g = find(&v, "gpu-mining");
        close(
            g.revenue_usd_per_mw_year,
            19.103_698_43,
            "gpu mining revenue",
        );
        close(g.opex_usd_per_mw_year, power, "gpu mining opex");
        close(g.capex_usd_per_mw, 27e6, "gpu mining capex");

        // Curtail: $10 per MWh not drawn × 8,766 h.
        let k = find(&v, "curtail");
        close(k.revenue_usd_per_mw_year, 87_660.0, "curtail revenue");
        close(k.opex_usd_per_mw_year, 0.0, "curtail opex");
        assert_eq!(k.breakeven_power_usd_per_mwh, None);

        // NPV of the lease by hand: 120 equal months, 8 %/year.
        let month = (960_000.0 - power) / 12.0;
        let npv: f64 = (1..=120)
            .map(|m| month / 1.08_f64.powf(f64::from(m) / 12.0))
            .sum::<f64>()
            - 3e6;
        close(l.npv_usd_per_mw, npv, "lease npv");
        // Payback: $3M / $43,475 a month = 69.0 months → month 70.
        assert_eq!(l.payback_years, Some(70.0 / 12.0));
        assert_eq!(v.winner, v.options[0].id);
    }

    /// Each break-even price, put back into the model, makes that option's
    /// first-year net zero; each payback month is the first whose cumulative
    /// cash covers the capex.
    #[test]
    fn breakevens_and_paybacks_substitute_back() {
        let (mut s, m, h, g) = (site(), mining(), flat(), gpu());
        // A rental price at which the servers pay back within their life.
        s.rental_usd_per_hour = 3.0;
        let base = view(&s, &m, &h, &g, UsdPerMwh(0.0)).unwrap_or_else(|e| panic!("{e}"));
        let mut checked = 0;
        for o in &base.options {
            let Some(p) = o.breakeven_power_usd_per_mwh else {
                continue;
            };
            let at = options_at(&s, &m, &h, &g, UsdPerMwh(p)).unwrap_or_else(|e| panic!("{e}"));
            let same = at
                .iter()
                .find(|x| x.id == o.id)
                .unwrap_or_else(|| panic!("{}", o.id));
            assert!(
                same.net_usd_per_mw_year.abs() < 1e-6 * o.revenue_usd_per_mw_year.max(1.0),
                "{}: net {} at break-even {p}",
                o.id,
                same.net_usd_per_mw_year
            );
            checked += 1;
        }
        assert_eq!(
            checked, 4,
            "asic, lease, gpu-cloud and gpu-mining buy power"
        );

        let ctx = Ctx {
            site: &s,
            mining: &m,
            horizon: &h,
            gpu: &g,
            price: 50.0,
        };
        let flows = [
            (
                "asic:test",
                ctx.asic(&s.asics[0]).unwrap_or_else(|e| panic!("{e}")).1,
            ),
            ("ai-lease", ctx.lease()),
            ("gpu-cloud", ctx.cloud(30_000.0)),
        ];
        for (id, f) in flows {
            let o = find(&base, id);
            let years = o
                .payback_years
                .unwrap_or_else(|| panic!("{id} never pays back"));
            let month = (years * 12.0).round() as usize;
            let before: f64 = f.cash[..month - 1].iter().sum();
            let at: f64 = f.cash[..month].iter().sum();
            assert!(
                before < f.capex && at >= f.capex,
                "{id}: {before} {at} {}",
                f.capex
            );
            // NPV recomputed from the same flows.
            close(o.npv_usd_per_mw, npv(&f.cash[..120], f.capex, 8.0), id);
        }
        // A site that never pays back says so.
        let g_mine = find(&base, "gpu-mining");
        assert_eq!(g_mine.payback_years, None);
        // 1 MW / 1.2 / 1 kW = 833.3 GPUs × $30k + $3M fit-out, and nothing earned.
        close(g_mine.npv_usd_per_mw, -28e6, "gpu mining is switched off");
    }

    #[test]
    fn the_site_price_follows_electricity_unless_set() {
        let mut s = site();
        s.power_price = None;
        let v = view(&s, &mining(), &flat(), &gpu(), UsdPerMwh(150.0))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.power_usd_per_mwh, 150.0);
        assert_eq!(v.by_power_price.len(), 11);
        let mut bad = site();
        bad.ai_pue = 0.9;
        let e = view(&bad, &mining(), &flat(), &gpu(), UsdPerMwh(1.0))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("site.ai_pue"), "{e}");
    }
}
