//! The `hashwatt.econ/2` report: JSON for machines, Markdown and CSV for
//! people and spreadsheets.

use super::decision::{Choice, Decision, Nets};
use super::inference::{InferenceEstimate, InferenceValue};
use super::inputs::key;
use super::mining::{HorizonMonth, MiningEstimate};
use super::scenario::{Scenario, Source};
use super::sensitivity::Sweep;
use super::site::SiteView;
use crate::units::figure;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Schema string of econ reports.
pub const ECON_SCHEMA: &str = "hashwatt.econ/2";

/// Schema string of the previous econ reports (before the site view's
/// `hashwatt.econ/2` contract); `compare` still reads them.
pub const ECON_SCHEMA_V1: &str = "hashwatt.econ/1";

/// Mining section: the model's estimate as it is, with the hash rate and
/// whether it was measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MiningSection {
    /// Hash rate used, H/s.
    pub hashrate_h_per_s: f64,
    /// Whether that hash rate was measured (bench report).
    pub hashrate_measured: bool,
    /// Expected revenue. Modeled.
    #[serde(flatten)]
    pub estimate: MiningEstimate,
    /// `"modeled"`.
    pub basis: &'static str,
}

/// Power section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerSection {
    /// Cost of mining power per hour (watts × price × PUE), USD.
    pub usd_per_hour: f64,
    /// Watts while mining.
    pub mining_watts: f64,
    /// Whether those watts were measured by a meter.
    pub mining_watts_measured: bool,
    /// Inference power cost per hour at the utilization, USD.
    pub inference_usd_per_hour: f64,
    /// Idle option's power cost per hour, USD.
    pub idle_usd_per_hour: f64,
    /// `"measured watts"` or `"modeled watts"`, × price × PUE.
    pub basis: &'static str,
}

/// Inference section: the model's estimate as it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InferenceSection {
    /// Inference value. Modeled.
    #[serde(flatten)]
    pub estimate: InferenceEstimate,
    /// `"modeled"`.
    pub basis: &'static str,
}

/// Decision section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionSection {
    /// `"mine"`, `"infer"` or `"idle"`.
    pub winner: Choice,
    /// Net USD/hour per option.
    pub net_usd_per_hour: Nets,
    /// Winner's lead over the runner-up, USD/hour.
    pub margin_usd_per_hour: f64,
    /// Mining revenue ÷ mining power cost.
    pub mining_revenue_to_power_cost: Option<f64>,
    /// BTC price where mining ties the best alternative.
    pub breakeven_btc_price_usd: Option<f64>,
    /// BTC price where mining ties idling.
    pub breakeven_btc_price_vs_idle_usd: Option<f64>,
    /// Electricity price where mining ties the best alternative.
    pub breakeven_electricity_usd_per_kwh: Option<f64>,
    /// Electricity price below which mining beats idling.
    pub breakeven_electricity_vs_idle_usd_per_kwh: Option<f64>,
    /// Token price where inference ties the best alternative.
    pub breakeven_usd_per_mtok: Option<f64>,
    /// Rental price where inference ties the best alternative.
    pub breakeven_rental_usd_per_hour: Option<f64>,
    /// Utilization where inference ties the best alternative.
    pub breakeven_utilization_pct: Option<f64>,
}

/// One echoed input with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EchoedInput {
    /// Value as used.
    pub value: serde_json::Value,
    /// Unit of the value (empty for counts, names and flags).
    pub unit: &'static str,
    /// Where it came from.
    pub source: Source,
    /// Whether the value is an assumption rather than a citation, a
    /// measurement or the user's own figure.
    pub assumption: bool,
}

/// The unit of an input, read from its key's suffix.
pub fn unit_of(key: &str) -> &'static str {
    const SUFFIXES: [(&str, &str); 17] = [
        ("_h_per_s", "H/s"),
        ("_usd_per_kwh", "USD/kWh"),
        ("_usd_per_mwh", "USD/MWh"),
        ("_usd_per_mw_year", "USD/MW-year"),
        ("_usd_per_mw", "USD/MW"),
        ("_usd_per_th", "USD/(TH/s)"),
        ("_usd_per_hour", "USD/h"),
        ("usd_per_mtok", "USD/Mtok"),
        ("_usd", "USD"),
        ("_btc_per_block", "BTC/block"),
        ("_pct_per_month", "%/month"),
        ("_pct", "%"),
        ("_watts_per_gpu", "W"),
        ("_watts", "W"),
        ("_months", "months"),
        ("_mw", "MW"),
        ("_tokens", "tokens"),
    ];
    if key.ends_with("pue") {
        return "ratio";
    }
    if key == key!(mining.difficulty) {
        return "difficulty";
    }
    SUFFIXES
        .iter()
        .find(|(s, _)| key.ends_with(s))
        .map_or("", |(_, u)| u)
}

/// The whole econ report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EconReport {
    /// [`ECON_SCHEMA`].
    pub schema: &'static str,
    /// Crate version that wrote it.
    pub hashwatt_version: &'static str,
    /// Scenario name.
    pub scenario: String,
    /// Date the scenario's inputs apply to (`null` when not given).
    pub scenario_date: Option<String>,
    /// Mining.
    pub mining: MiningSection,
    /// Power.
    pub power: PowerSection,
    /// Inference.
    pub inference: InferenceSection,
    /// Decision.
    pub decision: DecisionSection,
    /// Horizon projection (empty unless asked).
    pub horizon: Vec<HorizonMonth>,
    /// Site view per MW, options ranked by NPV.
    pub site: SiteView,
    /// Sensitivity sweeps.
    pub sensitivity: Vec<Sweep>,
    /// Every input with its source.
    pub inputs: BTreeMap<String, EchoedInput>,
    /// Live network inputs (`econ --live`): which were used, how old, what failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<super::live::LiveReport>,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

impl EconReport {
    /// Builds the report.
    pub fn new(s: &Scenario, d: &Decision, site: SiteView, sensitivity: Vec<Sweep>) -> Self {
        let hash_src = s.source_of(key!(mining.hashrate_h_per_s));
        let watts_src = s.source_of(key!(power.mining_watts));
        let inputs = s
            .input_values()
            .into_iter()
            .map(|(k, value)| {
                let source = s.source_of(k);
                (
                    k.to_owned(),
                    EchoedInput {
                        value,
                        unit: unit_of(k),
                        assumption: source.kind == super::scenario::SourceKind::Assumption
                            || source.detail.contains("ASSUMPTION"),
                        source,
                    },
                )
            })
            .collect();
        let b = &d.breakeven;
        EconReport {
            schema: ECON_SCHEMA,
            hashwatt_version: env!("CARGO_PKG_VERSION"),
            scenario: s.name.clone(),
            scenario_date: s.date.clone(),
            mining: MiningSection {
                hashrate_h_per_s: s.mining.hashrate.get(),
                hashrate_measured: hash_src.measured,
                estimate: d.mining.clone(),
                basis: "modeled",
            },
            power: PowerSection {
                usd_per_hour: d.power.mining.get(),
                mining_watts: s.power.mining_watts.get(),
                mining_watts_measured: watts_src.measured,
                inference_usd_per_hour: d.power.inference.get(),
                idle_usd_per_hour: d.power.idle.get(),
                basis: if watts_src.measured {
                    "measured watts x price x PUE"
                } else {
                    "modeled watts x price x PUE"
                },
            },
            inference: InferenceSection {
                estimate: d.inference.clone(),
                basis: "modeled",
            },
            decision: DecisionSection {
                winner: d.winner,
                net_usd_per_hour: d.net_usd_per_hour,
                margin_usd_per_hour: d.margin_usd_per_hour,
                mining_revenue_to_power_cost: finite(d.mining_revenue_to_power_cost),
                breakeven_btc_price_usd: b.btc_price_usd,
                breakeven_btc_price_vs_idle_usd: b.btc_price_vs_idle_usd,
                breakeven_electricity_usd_per_kwh: b.electricity_usd_per_kwh,
                breakeven_electricity_vs_idle_usd_per_kwh: b.electricity_vs_idle_usd_per_kwh,
                breakeven_usd_per_mtok: b.usd_per_mtok,
                breakeven_rental_usd_per_hour: b.rental_usd_per_hour,
                breakeven_utilization_pct: b.utilization_pct,
            },
            horizon: d.horizon.clone(),
            site,
            sensitivity,
            inputs,
            live: None,
        }
    }

    /// Pretty JSON.
    ///
    /// # Errors
    /// Only if serialization fails (it does not for this type).
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self)
    }

    /// The Markdown report.
    pub fn to_markdown(&self, s: &Scenario) -> String {
        let mut o = String::new();
        let d = &self.decision;
        let n = &d.net_usd_per_hour;
        let _ = writeln!(o, "# hashwatt econ: {}\n", self.scenario);
        let _ = writeln!(
            o,
            "Scenario date: {}.\n",
            self.scenario_date
                .as_deref()
                .unwrap_or("not given (inputs are the cited defaults' dates)")
        );
        if let Some(live) = &self.live {
            let _ = writeln!(o, "{}", live.to_markdown());
        }
        let _ = writeln!(
            o,
            "**Winner: {}** (by {} per hour over the runner-up).\n",
            d.winner,
            usd(d.margin_usd_per_hour)
        );
        let m = &self.mining;
        let p = &self.power;
        match d.mining_revenue_to_power_cost {
            Some(r) if r < 1.0 => {
                let _ = writeln!(
                    o,
                    "**Plainly: mining does not pay for its electricity.** This device earns {} per hour mining \
                     and burns {} of electricity doing it: revenue covers {} of the power cost \
                     ({}).\n",
                    usd(m.estimate.usd_per_hour.get()),
                    usd(p.usd_per_hour),
                    pct(r * 100.0),
                    power_cost_ratio(r)
                );
            }
            Some(r) => {
                let _ = writeln!(
                    o,
                    "Mining earns {} per hour against {} of electricity ({}x its power cost).\n",
                    usd(m.estimate.usd_per_hour.get()),
                    usd(p.usd_per_hour),
                    figure(Some(r), 4)
                );
            }
            None if p.mining_watts > 0.0 => {
                let _ = writeln!(
                    o,
                    "Power costs nothing in this scenario: mining draws {} W and earns {} per hour \
                     with no power bill to cover.\n",
                    figure(Some(p.mining_watts), 4),
                    usd(m.estimate.usd_per_hour.get())
                );
            }
            None => {
                let _ = writeln!(o, "Mining draws no power in this scenario.\n");
            }
        }
        let _ = writeln!(o, "## Net per hour\n");
        let _ = writeln!(o, "| option | revenue USD/h | power USD/h | net USD/h |");
        let _ = writeln!(o, "|---|---:|---:|---:|");
        let _ = writeln!(
            o,
            "| mine | {} | {} | {} |",
            figure(Some(m.estimate.usd_per_hour.get()), 4),
            figure(Some(p.usd_per_hour), 4),
            figure(Some(n.mine.get()), 4)
        );
        let _ = writeln!(
            o,
            "| infer ({} at {}) | {} | {} | {} |",
            self.inference.estimate.method,
            pct(s.utilization.get()),
            figure(Some(self.inference.estimate.usd_per_hour.get()), 4),
            figure(Some(p.inference_usd_per_hour), 4),
            figure(Some(n.infer.get()), 4)
        );
        let _ = writeln!(
            o,
            "| idle ({}) | 0 | {} | {} |\n",
            match s.power.idle_mode {
                super::power::IdleMode::On => "on",
                super::power::IdleMode::PoweredDown => "powered down",
            },
            figure(Some(p.idle_usd_per_hour), 4),
            figure(Some(n.idle.get()), 4)
        );
        let _ = writeln!(
            o,
            "Hash rate {} ({}); mining watts {:.1} W ({}). All money figures are modeled.\n",
            hashrate(m.hashrate_h_per_s),
            if m.hashrate_measured {
                "measured"
            } else {
                "not measured: an input"
            },
            p.mining_watts,
            if p.mining_watts_measured {
                "measured"
            } else {
                "modeled"
            }
        );

        let _ = writeln!(o, "## Break-even points\n");
        let _ = writeln!(o, "| what | value | today |");
        let _ = writeln!(o, "|---|---:|---:|");
        let row =
            |o: &mut String, what: &str, v: Option<f64>, today: String, f: fn(f64) -> String| {
                let _ = writeln!(
                    o,
                    "| {what} | {} | {today} |",
                    v.map_or_else(|| "none in range".to_owned(), f)
                );
            };
        row(
            &mut o,
            "BTC price for mining to match the best alternative",
            d.breakeven_btc_price_usd,
            usd(s.mining.btc_price.get()),
            usd,
        );
        row(
            &mut o,
            "BTC price for mining to match idling",
            d.breakeven_btc_price_vs_idle_usd,
            usd(s.mining.btc_price.get()),
            usd,
        );
        row(
            &mut o,
            "electricity price for mining to match the best alternative (USD/kWh)",
            d.breakeven_electricity_usd_per_kwh,
            figure(Some(s.power.electricity.get()), 4),
            |x| figure(Some(x), 4),
        );
        row(
            &mut o,
            "electricity price below which mining beats idling (USD/kWh)",
            d.breakeven_electricity_vs_idle_usd_per_kwh,
            figure(Some(s.power.electricity.get()), 4),
            |x| figure(Some(x), 4),
        );
        match &s.inference {
            InferenceValue::Tokens { usd_per_mtok, .. } => row(
                &mut o,
                "token price for inference to match the best alternative (USD/Mtok)",
                d.breakeven_usd_per_mtok,
                figure(Some(usd_per_mtok.get()), 4),
                |x| figure(Some(x), 4),
            ),
            InferenceValue::Rental { usd_per_hour } => row(
                &mut o,
                "rental price for inference to match the best alternative (USD/GPU-h)",
                d.breakeven_rental_usd_per_hour,
                figure(Some(usd_per_hour.get()), 4),
                |x| figure(Some(x), 4),
            ),
        }
        row(
            &mut o,
            "utilization for inference to match the best alternative",
            d.breakeven_utilization_pct,
            pct(s.utilization.get()),
            pct,
        );
        let _ = writeln!(o);

        let _ = writeln!(o, "## Mining (modeled)\n");
        let _ = writeln!(o, "| quantity | value |");
        let _ = writeln!(o, "|---|---:|");
        let _ = writeln!(
            o,
            "| block subsidy at height {} | {} BTC |",
            s.mining.height,
            m.estimate.subsidy_btc.get()
        );
        let _ = writeln!(
            o,
            "| hashprice (gross) | {} /PH/s/day ({:.8} BTC) |",
            usd(m.estimate.hashprice_usd_per_ph_day),
            m.estimate.hashprice_btc_per_ph_day
        );
        let _ = writeln!(o, "| BTC per day | {:.3e} |", m.estimate.btc_per_day.get());
        let _ = writeln!(
            o,
            "| USD per day | {} |",
            figure(Some(m.estimate.usd_per_day.get()), 4)
        );
        let _ = writeln!(
            o,
            "| network hash rate implied by difficulty | {} |",
            hashrate(m.estimate.network_hashrate.get())
        );
        if let Some(days) = finite(m.estimate.solo_days_per_block) {
            let _ = writeln!(
                o,
                "| expected wait for a block mining solo | {:.3e} years |",
                days / 365.25
            );
        }
        let _ = writeln!(o);

        let i = &self.inference.estimate;
        let _ = writeln!(o, "## Inference (modeled)\n");
        if let (
            Some(r),
            InferenceValue::Tokens {
                roofline: ri,
                usd_per_mtok,
                usd_per_mtok_input,
            },
        ) = (&i.roofline, &s.inference)
        {
            let _ = writeln!(
                o,
                "Roofline: {} on {}{} at {}, ISL/OSL {}/{}, batch {} ({}-bound decode): **{:.0} output tok/s per GPU** x {} /Mtok + {:.0} input tok/s x {} /Mtok = {} /h at full use.\n",
                ri.model.name,
                if ri.gpus_per_replica > 1 {
                    format!("{} x ", ri.gpus_per_replica)
                } else {
                    String::new()
                },
                ri.gpu.name,
                ri.precision,
                ri.input_tokens,
                ri.output_tokens,
                r.batch,
                r.decode_bound,
                i.tokens_per_second.get(),
                figure(Some(usd_per_mtok.get()), 4),
                i.input_tokens_per_second.get(),
                figure(Some(usd_per_mtok_input.get()), 4),
                usd(i.full_usd_per_hour.get())
            );
            if let Some(rent) = i.rental_usd_per_hour {
                if i.tokens_exceed_rental {
                    let _ = writeln!(
                        o,
                        "**The tokens of a fully used GPU-hour ({}) are worth more than the same GPU rents \
                         for ({} per hour; tokens {:.1}x the rental)**: the market would rent the GPU out \
                         instead, so read the token value as optimistic.\n",
                        usd(i.full_usd_per_hour.get()),
                        usd(rent),
                        i.full_usd_per_hour.get() / rent
                    );
                } else {
                    let _ = writeln!(
                        o,
                        "The same GPU rents for {} per hour; a fully used hour of tokens is worth {}.\n",
                        usd(rent),
                        usd(i.full_usd_per_hour.get())
                    );
                }
            }
        } else {
            let _ = writeln!(
                o,
                "Rental at {} per GPU-hour when rented.\n",
                usd(i.full_usd_per_hour.get())
            );
        }

        self.site_markdown(&mut o);

        if !self.horizon.is_empty() {
            let _ = writeln!(o, "## Mining horizon (modeled)\n");
            let _ = writeln!(
                o,
                "| month | difficulty (T) | BTC price | BTC | revenue USD | power USD | cumulative net USD |"
            );
            let _ = writeln!(o, "|---:|---:|---:|---:|---:|---:|---:|");
            // Long horizons: month 1 and every twelfth month (the JSON has all).
            let long = self.horizon.len() > 24;
            for h in self
                .horizon
                .iter()
                .filter(|h| !long || h.month == 1 || h.month % 12 == 0)
            {
                let _ = writeln!(
                    o,
                    "| {} | {:.2} | {} | {:.3e} | {} | {} | {} |",
                    h.month,
                    h.difficulty.get() / 1e12,
                    figure(Some(h.btc_price_usd.get()), 4),
                    h.btc.get(),
                    figure(Some(h.revenue_usd.get()), 4),
                    figure(Some(h.power_usd.get()), 4),
                    figure(Some(h.cumulative_net_usd.get()), 4)
                );
            }
            let _ = writeln!(o);
        }

        let _ = writeln!(o, "## Inputs and sources\n");
        let _ = writeln!(
            o,
            "| input | value | unit | source | measured | assumption |"
        );
        let _ = writeln!(o, "|---|---|---|---|---|---|");
        for (k, e) in &self.inputs {
            let _ = writeln!(
                o,
                "| `{k}` | {} | {} | {}: {} | {} | {} |",
                e.value,
                e.unit,
                e.source.kind.label(),
                e.source.detail.replace('|', "/"),
                if e.source.measured { "yes" } else { "no" },
                if e.assumption { "yes" } else { "no" }
            );
        }
        o
    }

    fn site_markdown(&self, o: &mut String) {
        let site = &self.site;
        let _ = writeln!(
            o,
            "## Site view: {} MW at {} /MWh, NPV over {} months at {} %/year\n",
            figure(Some(site.power_mw), 4),
            figure(Some(site.power_usd_per_mwh), 4),
            site.horizon_months,
            figure(Some(site.discount_rate_pct), 4)
        );
        let _ = writeln!(
            o,
            "**Best use of the power: {}.** Per MW of facility power (modeled); first-year \
             figures, net before capex:\n",
            site.winner
        );
        let _ = writeln!(
            o,
            "| option | units/MW | revenue USD/MW-yr | opex USD/MW-yr | net USD/MW-yr | capex USD/MW | NPV USD/MW | payback years | break-even power USD/MWh |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        let opt_num = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), |x| figure(Some(x), 4));
        for opt in &site.options {
            let _ = writeln!(
                o,
                "| `{}` {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                opt.id,
                opt.name,
                opt_num(opt.units),
                figure(Some(opt.revenue_usd_per_mw_year), 4),
                figure(Some(opt.opex_usd_per_mw_year), 4),
                figure(Some(opt.net_usd_per_mw_year), 4),
                figure(Some(opt.capex_usd_per_mw), 4),
                figure(Some(opt.npv_usd_per_mw), 4),
                opt.payback_years.map_or_else(
                    || "not within the horizon".to_owned(),
                    |y| format!("{y:.2}")
                ),
                opt_num(opt.breakeven_power_usd_per_mwh)
            );
        }
        let _ = writeln!(o);
        for opt in &site.options {
            let _ = writeln!(o, "- `{}`: {}", opt.id, opt.basis.replace('|', "/"));
        }
        for n in &site.notes {
            let _ = writeln!(o, "- {n}");
        }
        let _ = writeln!(o, "\nBest option by power price (NPV per MW):\n");
        let _ = writeln!(o, "| power USD/MWh | winner | NPV USD/MW |");
        let _ = writeln!(o, "|---:|---|---:|");
        for r in &site.by_power_price {
            let _ = writeln!(
                o,
                "| {} | `{}` | {} |",
                r.power_usd_per_mwh,
                r.winner,
                figure(Some(r.npv_usd_per_mw), 4)
            );
        }
        let _ = writeln!(o);
    }
}

/// "power costs N x what mining earns" for a revenue / power-cost ratio
/// below 1, with no `inf` and no 300-digit number.
fn power_cost_ratio(r: f64) -> String {
    if r > 0.0 {
        format!(
            "power costs {}x what mining earns",
            figure(Some(1.0 / r), 4)
        )
    } else {
        "mining earns nothing".into()
    }
}

fn usd(x: f64) -> String {
    if x < 0.0 {
        format!("-${}", figure(Some(-x), 4))
    } else {
        format!("${}", figure(Some(x), 4))
    }
}

fn pct(x: f64) -> String {
    if x != 0.0 && !(0.01..1e6).contains(&x.abs()) {
        format!("{x:.2e} %")
    } else {
        format!("{x:.2} %")
    }
}

pub(crate) fn hashrate(h: f64) -> String {
    let units = [
        (1e18, "EH/s"),
        (1e15, "PH/s"),
        (1e12, "TH/s"),
        (1e9, "GH/s"),
        (1e6, "MH/s"),
        (1e3, "kH/s"),
    ];
    for (f, u) in units {
        if h >= f {
            return format!("{:.3} {u}", h / f);
        }
    }
    format!("{h:.0} H/s")
}

#[cfg(test)]
mod ratio_tests {
    use super::*;

    #[test]
    fn ratios_print_short_and_finite() {
        assert_eq!(power_cost_ratio(0.5), "power costs 2x what mining earns");
        assert_eq!(power_cost_ratio(0.0), "mining earns nothing");
        let tiny = power_cost_ratio(1e-300);
        assert!(tiny.len() < 50 && !tiny.contains("inf"), "{tiny}");
        assert_eq!(figure(Some(f64::INFINITY), 4), "n/a");
        assert!(
            figure(Some(1e300), 4).len() < 12,
            "{}",
            figure(Some(1e300), 4)
        );
        assert!(pct(1e300).len() < 16, "{}", pct(1e300));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::economics::units::{HashRate, Watts};
    use crate::economics::{evaluate, sensitivity};

    #[test]
    fn json_has_the_stable_fields_and_markdown_is_honest() {
        let s = Scenario::new(HashRate(5e9), Watts(700.0));
        let d = evaluate(&s).unwrap_or_else(|e| panic!("{e}"));
        let sw = sensitivity::default_sweeps(&s).unwrap_or_else(|e| panic!("{e}"));
        let site = crate::economics::site::evaluate(&s).unwrap_or_else(|e| panic!("{e}"));
        let r = EconReport::new(&s, &d, site, sw);
        let v: serde_json::Value =
            serde_json::from_str(&r.to_json().unwrap_or_default()).unwrap_or_default();
        for path in [
            "/schema",
            "/mining/btc_per_day",
            "/mining/usd_per_day",
            "/mining/usd_per_hour",
            "/mining/hashprice_usd_per_ph_day",
            "/mining/subsidy_btc",
            "/power/usd_per_hour",
            "/inference/tokens_per_second",
            "/inference/usd_per_hour",
            "/decision/winner",
            "/decision/net_usd_per_hour/mine",
            "/decision/net_usd_per_hour/infer",
            "/decision/net_usd_per_hour/idle",
            "/decision/breakeven_btc_price_usd",
            "/decision/breakeven_electricity_usd_per_kwh",
            "/inputs/mining.difficulty/source/detail",
            "/inputs/mining.difficulty/unit",
            "/inputs/mining.difficulty/assumption",
            "/site/power_mw",
            "/site/power_usd_per_mwh",
            "/site/horizon_months",
            "/site/discount_rate_pct",
            "/site/winner",
            "/site/options/0/id",
            "/site/options/0/npv_usd_per_mw",
            "/site/options/0/payback_years",
        ] {
            assert!(v.pointer(path).is_some(), "missing {path}");
        }
        assert_eq!(v["schema"], "hashwatt.econ/2");
        assert_eq!(v["decision"]["winner"], "infer");
        assert_eq!(
            v["inputs"]["power.electricity_usd_per_kwh"]["unit"],
            "USD/kWh"
        );
        assert_eq!(v["inputs"]["site.discount_rate_pct"]["assumption"], true);
        assert_eq!(v["mining"]["subsidy_btc"], 3.125);
        let md = r.to_markdown(&s);
        assert!(
            md.contains("mining does not pay for its electricity"),
            "{md}"
        );
        assert!(md.contains("power costs"));
        assert!(md.contains("## Site view: 1 MW"), "{md}");
        assert!(md.contains("| input | value | unit | source | measured | assumption |"));
    }

    #[test]
    fn number_formatting() {
        assert_eq!(figure(Some(0.0), 4), "0");
        assert_eq!(figure(Some(12345.6), 4), "12346");
        assert_eq!(figure(Some(1.23456), 4), "1.235");
        assert_eq!(figure(Some(494.0), 4), "494");
        assert_eq!(figure(Some(259.0), 4), "259");
        assert_eq!(figure(Some(82.0), 4), "82");
        assert_eq!(figure(Some(0.5), 4), "0.5");
        assert_eq!(figure(Some(3.75), 4), "3.75");
        assert_eq!(figure(Some(0.0123456), 4), "0.01235");
        assert_eq!(figure(Some(1.5e-5), 4), "1.500e-5");
        assert_eq!(figure(Some(f64::INFINITY), 4), "n/a");
        assert_eq!(hashrate(5e9), "5.000 GH/s");
    }
}
