//! A power model for any CPU: a cited table of TDPs by processor family and
//! model, and a per-logical-CPU default for the rest.
//!
//! Each row is a generation's flagship part: its TDP divided by its hardware
//! threads gives watts per logical CPU, which [`super::ModeledMeter`] scales by
//! the machine's logical CPUs (a cloud VM sees a share of a package) and the
//! bench by the share of them the engine keeps busy. Rows are matched by the
//! CPUID family and model (x86) or the implementer and part (Arm) in
//! `/proc/cpuinfo`, which cloud VMs report even when they hide the model
//! name; Apple parts by their name. The sources are listed in `docs/bench-energy.md`.

/// Processor identity from `/proc/cpuinfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuId {
    /// x86: `vendor_id`, `cpu family`, `model`.
    X86 {
        /// `true` for `AuthenticAMD`, `false` for `GenuineIntel` (others are not tabled).
        amd: bool,
        /// CPUID family.
        family: u32,
        /// CPUID model.
        model: u32,
    },
    /// Arm: `CPU implementer` and `CPU part`.
    Arm {
        /// Implementer code (0x41 Arm, 0xc0 Ampere).
        implementer: u32,
        /// Part number (0xd0c Neoverse N1, ...).
        part: u32,
    },
}

impl CpuId {
    /// Reads `/proc/cpuinfo` (`None` elsewhere or when it has no usable fields).
    pub fn detect() -> Option<CpuId> {
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| CpuId::parse(&text))
    }

    /// Parses the first processor of a `/proc/cpuinfo` text.
    pub fn parse(cpuinfo: &str) -> Option<CpuId> {
        let field = |key: &str| {
            cpuinfo.lines().find_map(|line| {
                let (k, v) = line.split_once(':')?;
                (k.trim() == key).then(|| v.trim())
            })
        };
        let number = |v: &str| match v.strip_prefix("0x") {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => v.parse().ok(),
        };
        if let Some(vendor) = field("vendor_id") {
            let amd = match vendor {
                "AuthenticAMD" => true,
                "GenuineIntel" => false,
                _ => return None,
            };
            return Some(CpuId::X86 {
                amd,
                family: number(field("cpu family")?)?,
                model: number(field("model")?)?,
            });
        }
        Some(CpuId::Arm {
            implementer: number(field("CPU implementer")?)?,
            part: number(field("CPU part")?)?,
        })
    }
}

/// How a table row recognises its CPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// An x86 CPUID family and model.
    X86 {
        /// AMD (`true`) or Intel.
        amd: bool,
        /// CPUID family.
        family: u32,
        /// CPUID models of the generation.
        models: &'static [u32],
    },
    /// An Arm implementer and part.
    Arm {
        /// Implementer code.
        implementer: u32,
        /// Part number.
        part: u32,
    },
    /// The model name, lowercased and trimmed, is one of these (so `Apple M2`
    /// does not match `Apple M2 Max`).
    Name(&'static [&'static str]),
}

/// One row: a generation and the part whose TDP stands for it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TdpRow {
    /// Generation, e.g. `Intel Xeon 4th gen (Sapphire Rapids)`.
    pub generation: &'static str,
    /// How it is recognised.
    pub matches: Match,
    /// The reference part.
    pub part: &'static str,
    /// Its TDP (for Apple: the whole computer's maximum power), watts.
    pub tdp_watts: f64,
    /// Its hardware threads.
    pub threads: u32,
    /// Where the figures come from (see `docs/bench-energy.md`).
    pub source: &'static str,
}

impl TdpRow {
    /// TDP per logical CPU.
    pub fn watts_per_logical_cpu(&self) -> f64 {
        self.tdp_watts / f64::from(self.threads)
    }
}

const fn intel(
    generation: &'static str,
    models: &'static [u32],
    part: &'static str,
    tdp_watts: f64,
    threads: u32,
    source: &'static str,
) -> TdpRow {
    TdpRow {
        generation,
        matches: Match::X86 {
            amd: false,
            family: 6,
            models,
        },
        part,
        tdp_watts,
        threads,
        source,
    }
}

const fn amd(
    generation: &'static str,
    family: u32,
    models: &'static [u32],
    part: &'static str,
    tdp_watts: f64,
    threads: u32,
    source: &'static str,
) -> TdpRow {
    TdpRow {
        generation,
        matches: Match::X86 {
            amd: true,
            family,
            models,
        },
        part,
        tdp_watts,
        threads,
        source,
    }
}

/// The table (`docs/bench-energy.md`, "The power model").
pub const TABLE: &[TdpRow] = &[
    intel(
        "Intel Xeon E5 v3 (Haswell-EP)",
        &[0x3f],
        "Xeon E5-2699 v3",
        145.0,
        36,
        "Intel ARK, Xeon E5-2699 v3: 18 cores, 36 threads, TDP 145 W",
    ),
    intel(
        "Intel Xeon E5 v4 (Broadwell-EP)",
        &[0x4f],
        "Xeon E5-2699 v4",
        145.0,
        44,
        "Intel ARK, Xeon E5-2699 v4: 22 cores, 44 threads, TDP 145 W",
    ),
    intel(
        "Intel Xeon Scalable 1st/2nd gen (Skylake-SP, Cascade Lake)",
        &[0x55],
        "Xeon Platinum 8280",
        205.0,
        56,
        "Intel ARK, Xeon Platinum 8280: 28 cores, 56 threads, TDP 205 W",
    ),
    intel(
        "Intel Xeon Scalable 3rd gen (Ice Lake-SP)",
        &[0x6a, 0x6c],
        "Xeon Platinum 8380",
        270.0,
        80,
        "Intel ARK, Xeon Platinum 8380: 40 cores, 80 threads, TDP 270 W",
    ),
    intel(
        "Intel Xeon Scalable 4th gen (Sapphire Rapids)",
        &[0x8f],
        "Xeon Platinum 8480+",
        350.0,
        112,
        "Intel ARK, Xeon Platinum 8480+: 56 cores, 112 threads, TDP 350 W",
    ),
    intel(
        "Intel Xeon Scalable 5th gen (Emerald Rapids)",
        &[0xcf],
        "Xeon Platinum 8592+",
        350.0,
        128,
        "Intel ARK, Xeon Platinum 8592+: 64 cores, 128 threads, TDP 350 W",
    ),
    intel(
        "Intel Xeon 6 P-core (Granite Rapids)",
        &[0xad, 0xae],
        "Xeon 6980P",
        500.0,
        256,
        "Intel ARK, Xeon 6980P: 128 cores, 256 threads, TDP 500 W",
    ),
    amd(
        "AMD EPYC 7001 (Naples, Zen)",
        0x17,
        &[0x01],
        "EPYC 7601",
        180.0,
        64,
        "AMD product page, EPYC 7601: 32 cores, 64 threads, default TDP 180 W",
    ),
    amd(
        "AMD EPYC 7002 (Rome, Zen 2)",
        0x17,
        &[0x31],
        "EPYC 7742",
        225.0,
        128,
        "AMD product page, EPYC 7742: 64 cores, 128 threads, default TDP 225 W",
    ),
    amd(
        "AMD EPYC 7003 (Milan, Zen 3)",
        0x19,
        &[0x01],
        "EPYC 7763",
        280.0,
        128,
        "AMD product page, EPYC 7763: 64 cores, 128 threads, default TDP 280 W",
    ),
    amd(
        "AMD EPYC 9004 (Genoa, Zen 4)",
        0x19,
        &[0x11],
        "EPYC 9654",
        360.0,
        192,
        "AMD product page, EPYC 9654: 96 cores, 192 threads, default TDP 360 W",
    ),
    amd(
        "AMD EPYC 9004 (Bergamo, Zen 4c)",
        0x19,
        &[0xa0],
        "EPYC 9754",
        360.0,
        256,
        "AMD product page, EPYC 9754: 128 cores, 256 threads, default TDP 360 W",
    ),
    amd(
        "AMD EPYC 9005 (Turin, Zen 5)",
        0x1a,
        &[0x02],
        "EPYC 9755",
        500.0,
        256,
        "AMD product page, EPYC 9755: 128 cores, 256 threads, default TDP 500 W",
    ),
    amd(
        "AMD EPYC 9005 (Turin dense, Zen 5c)",
        0x1a,
        &[0x11],
        "EPYC 9965",
        500.0,
        384,
        "AMD product page, EPYC 9965: 192 cores, 384 threads, default TDP 500 W",
    ),
    TdpRow {
        generation: "Arm Neoverse N1 (AWS Graviton2, Ampere Altra)",
        matches: Match::Arm {
            implementer: 0x41,
            part: 0xd0c,
        },
        part: "Ampere Altra Q80-30",
        tdp_watts: 210.0,
        threads: 80,
        source: "Ampere Altra product brief, Q80-30: 80 cores, TDP 210 W \
                 (AWS publishes no Graviton2 TDP; same Neoverse N1 core)",
    },
    TdpRow {
        generation: "Apple M1",
        matches: Match::Name(&["apple m1"]),
        part: "Mac mini (M1, 2020)",
        tdp_watts: 39.0,
        threads: 8,
        source: "Apple support 103253, Mac mini power consumption: M1 (2020) maximum 39 W \
                 at the wall, whole computer; 8 cores",
    },
    TdpRow {
        generation: "Apple M2",
        matches: Match::Name(&["apple m2"]),
        part: "Mac mini (M2, 2023)",
        tdp_watts: 50.0,
        threads: 8,
        source: "Apple support 103253, Mac mini power consumption: M2 (2023) maximum 50 W \
                 at the wall, whole computer; 8 cores",
    },
];

/// Watts per logical CPU for a CPU the table does not know: the highest
/// per-thread figure in [`TABLE`] among servers (Haswell-EP, 145 W / 36
/// threads = 4.03 W), rounded to 4 W, so an unknown CPU is not flattered.
pub const DEFAULT_WATTS_PER_LOGICAL_CPU: f64 = 4.0;

/// The model used for a CPU: a table row, or the default.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CpuPower {
    /// A row of [`TABLE`].
    Row(&'static TdpRow),
    /// [`DEFAULT_WATTS_PER_LOGICAL_CPU`].
    Default,
}

impl CpuPower {
    /// The model for a CPU named `name` with identity `id`: the CPUID or Arm
    /// part row first (names vary, cloud VMs hide them), then a name row,
    /// else the default.
    pub fn lookup(name: &str, id: Option<CpuId>) -> CpuPower {
        let lower = name.to_lowercase();
        let by_id = id.and_then(|id| {
            TABLE.iter().find(|row| match (row.matches, id) {
                (
                    Match::X86 {
                        amd,
                        family,
                        models,
                    },
                    CpuId::X86 {
                        amd: a,
                        family: f,
                        model: m,
                    },
                ) => amd == a && family == f && models.contains(&m),
                (
                    Match::Arm { implementer, part },
                    CpuId::Arm {
                        implementer: i,
                        part: p,
                    },
                ) => implementer == i && part == p,
                _ => false,
            })
        });
        let by_name = || {
            TABLE.iter().find(|row| match row.matches {
                Match::Name(names) => names.contains(&lower.trim()),
                _ => false,
            })
        };
        by_id
            .or_else(by_name)
            .map_or(CpuPower::Default, CpuPower::Row)
    }

    /// Watts per logical CPU at full load.
    pub fn watts_per_logical_cpu(&self) -> f64 {
        match self {
            CpuPower::Row(row) => row.watts_per_logical_cpu(),
            CpuPower::Default => DEFAULT_WATTS_PER_LOGICAL_CPU,
        }
    }

    /// Which row or default was used, with its source.
    pub fn basis(&self) -> String {
        match self {
            CpuPower::Row(row) => format!(
                "table row {:?}: {} {} W / {} threads = {:.3} W per logical CPU ({})",
                row.generation,
                row.part,
                row.tdp_watts,
                row.threads,
                row.watts_per_logical_cpu(),
                row.source
            ),
            CpuPower::Default => format!(
                "CPU not in the TDP table: default {DEFAULT_WATTS_PER_LOGICAL_CPU} W per logical \
                 CPU (the table's highest server figure, Haswell-EP 145 W / 36 threads)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuinfo_parses_for_x86_and_arm() {
        let intel = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\nmodel name\t: Intel(R) Xeon(R) Platinum 8488C\n";
        assert_eq!(
            CpuId::parse(intel),
            Some(CpuId::X86 {
                amd: false,
                family: 6,
                model: 143
            })
        );
        let arm = "processor\t: 0\nBogoMIPS\t: 243.75\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\n";
        assert_eq!(
            CpuId::parse(arm),
            Some(CpuId::Arm {
                implementer: 0x41,
                part: 0xd0c
            })
        );
        assert_eq!(CpuId::parse(""), None);
        assert_eq!(CpuId::parse("vendor_id: CentaurHauls\n"), None);
        assert_eq!(
            CpuId::parse("vendor_id: GenuineIntel\ncpu family: x\n"),
            None
        );
    }

    #[test]
    fn every_generation_is_found_and_unknowns_get_the_default() {
        let sapphire = CpuId::X86 {
            amd: false,
            family: 6,
            model: 0x8f,
        };
        // Cloud VMs hide the part: the CPUID finds the generation.
        let p = CpuPower::lookup("Intel(R) Xeon(R) Processor @ 2.10GHz", Some(sapphire));
        let CpuPower::Row(row) = p else {
            panic!("{p:?}")
        };
        assert_eq!(row.part, "Xeon Platinum 8480+");
        assert_eq!(p.watts_per_logical_cpu(), 350.0 / 112.0);
        assert!(p.basis().contains("Sapphire Rapids"), "{}", p.basis());
        let turin = CpuId::X86 {
            amd: true,
            family: 0x1a,
            model: 2,
        };
        assert_eq!(
            CpuPower::lookup("AMD EPYC", Some(turin)).watts_per_logical_cpu(),
            500.0 / 256.0
        );
        let n1 = CpuId::Arm {
            implementer: 0x41,
            part: 0xd0c,
        };
        assert_eq!(
            CpuPower::lookup("Neoverse-N1", Some(n1)).watts_per_logical_cpu(),
            210.0 / 80.0
        );
        assert_eq!(
            CpuPower::lookup("Apple M2", None).watts_per_logical_cpu(),
            50.0 / 8.0
        );
        // An Intel family-6 model number on an AMD CPU is not a match.
        let odd = CpuId::X86 {
            amd: true,
            family: 6,
            model: 0x8f,
        };
        assert_eq!(CpuPower::lookup("Some CPU", Some(odd)), CpuPower::Default);
        assert_eq!(CpuPower::lookup("Some CPU", None), CpuPower::Default);
        assert_eq!(CpuPower::lookup("Apple M2 Max", None), CpuPower::Default);
        assert!(CpuPower::Default.basis().contains("not in the TDP table"));
        // Every row's figure is plausible and every row is reachable.
        for row in TABLE {
            let w = row.watts_per_logical_cpu();
            assert!((0.5..=8.0).contains(&w), "{row:?}");
        }
        assert!(
            TABLE
                .iter()
                .filter(|r| r.generation.starts_with("Intel"))
                .all(|r| r.watts_per_logical_cpu() <= 4.03 + 1e-9),
            "the default is the highest server figure"
        );
    }
}
