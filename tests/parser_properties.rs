//! Property tests on every parser that reads user input: arbitrary text and
//! mutations of valid inputs never panic, and valid inputs round-trip.
//!
//! The same parsers are fuzzed coverage-guided by `fuzz/` (docs/fuzzing.md);
//! these run on every `cargo test`. `PROPTEST_CASES` raises the case count.

use std::path::Path;

use hashwatt::bench::BenchReport;
use hashwatt::economics::bench::BenchReport as EconBenchReport;
use hashwatt::economics::decision::evaluate;
use hashwatt::economics::scenario::{Scenario, ScenarioFile};
use hashwatt::header::Header;
use hashwatt::pow::{CompactTarget, Target};
use hashwatt::report::compare::{Loaded, compare};
use proptest::prelude::*;

const GENESIS: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";
const SCENARIO: &str = include_str!("../scenarios/h100-idle.toml");
const SITE: &str = include_str!("../scenarios/site-1mw.toml");
const BENCH: &str = include_str!("data/econ/bench-cpu-modeled-energy.json");
const ECON: &str = include_str!("data/econ/econ-h100-idle.json");

/// Text that looks like the input: hex digits, prefixes, separators, junk.
fn hexish() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::char::ranges(vec!['0'..='9', 'a'..='f', 'A'..='F'].into()),
            1 => Just('x'),
            1 => any::<char>(),
        ],
        0..200,
    )
    .prop_map(|v| {
        let s: String = v.into_iter().collect();
        s
    })
}

/// A valid text with one byte range replaced by arbitrary text.
fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    (0..base.len(), 0..16usize, ".{0,24}").prop_map(move |(at, len, insert)| {
        let bytes = base.as_bytes();
        let end = (at + len).min(bytes.len());
        let mut out = bytes[..at].to_vec();
        out.extend_from_slice(insert.as_bytes());
        out.extend_from_slice(&bytes[end..]);
        String::from_utf8_lossy(&out).into_owned()
    })
}

/// A valid TOML scenario with one number replaced by an arbitrary one.
fn scenario_with_number() -> impl Strategy<Value = String> {
    let numbers: Vec<(usize, usize)> = number_spans(SCENARIO);
    (
        0..numbers.len(),
        prop_oneof![
            any::<f64>().prop_map(|f| format!("{f:?}")),
            any::<i64>().prop_map(|i| i.to_string()),
            any::<u32>().prop_map(|i| i.to_string()),
            Just("1e308".to_string()),
            Just("-0.0".to_string()),
            Just("nan".to_string()),
            Just("inf".to_string()),
        ],
    )
        .prop_map(move |(i, n)| {
            let (a, b) = numbers[i];
            format!("{}{}{}", &SCENARIO[..a], n, &SCENARIO[b..])
        })
}

fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(eq) = line.find('=') {
            let value = line[eq + 1..].trim_start();
            let start =
                offset + line.len() - line[eq + 1..].len() + (line[eq + 1..].len() - value.len());
            let len = value
                .find(|c: char| {
                    !(c.is_ascii_digit() || c == '.' || c == '_' || c == '-' || c == 'e')
                })
                .unwrap_or(value.len());
            if len > 0 && value.as_bytes()[0].is_ascii_digit() {
                spans.push((start, start + len));
            }
        }
        offset += line.len();
    }
    spans
}

/// Resolves and evaluates a scenario text, as `hashwatt econ --scenario`
/// does; whether it got as far as a decision.
fn run_scenario(text: &str) -> bool {
    let path = Path::new("fuzz.toml");
    if let Ok(file) = ScenarioFile::from_toml(text, path)
        && let Ok(scenario) = Scenario::resolve(Some((&file, path)), None, None)
    {
        return evaluate(&scenario).is_ok();
    }
    false
}

/// Cases per property: 2048, or `PROPTEST_CASES` (docs/fuzzing.md records long runs).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2048)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn header_parser_never_panics(s in hexish()) {
        let _ = s.parse::<Header>();
        let _ = format!("0x{s}").parse::<Header>();
    }

    #[test]
    fn header_round_trips(bytes in prop::collection::vec(any::<u8>(), 80)) {
        let h = Header::from_bytes(&bytes.clone().try_into().unwrap());
        let text = h.to_string();
        prop_assert_eq!(text.parse::<Header>().unwrap(), h);
        prop_assert_eq!(format!("0x{}", text.to_uppercase()).parse::<Header>().unwrap(), h);
    }

    #[test]
    fn bits_and_target_parsers_never_panic(s in hexish(), bits in any::<u32>(), d in any::<f64>()) {
        let _ = CompactTarget::from_hex(&s).map(Target::from_compact);
        let _ = Target::from_be_hex(&s);
        let _ = Target::from_difficulty(d);
        // Every nBits either decodes or is refused; a decoded one re-encodes.
        if let Ok(t) = Target::from_compact(CompactTarget::from_consensus(bits)) {
            prop_assert!(Target::from_compact(t.to_compact_lossy()).is_ok());
        }
        let hex = format!("{bits:08x}");
        prop_assert_eq!(CompactTarget::from_hex(&hex).unwrap(), CompactTarget::from_consensus(bits));
    }

    #[test]
    fn scenario_parser_never_panics(text in prop_oneof![mutated(SCENARIO), mutated(SITE), ".{0,200}"]) {
        let _ = run_scenario(&text);
    }

    #[test]
    fn scenario_numbers_never_panic(text in scenario_with_number()) {
        let _ = run_scenario(&text);
    }

    #[test]
    fn bench_json_readers_never_panic(text in prop_oneof![mutated(BENCH), ".{0,200}"]) {
        let _ = serde_json::from_str::<BenchReport>(&text);
        let _ = EconBenchReport::from_json(&text, Path::new("fuzz.json"));
    }

    #[test]
    fn compare_inputs_never_panic(a in prop_oneof![mutated(BENCH), mutated(ECON)], b in prop_oneof![mutated(BENCH), mutated(ECON)]) {
        let loaded: Vec<Loaded> = [a, b]
            .iter()
            .enumerate()
            .filter_map(|(i, t)| Loaded::from_json(format!("{i}.json"), t).ok())
            .collect();
        if let Ok(c) = compare(&loaded) {
            let _ = c.to_markdown();
        }
    }
}

#[test]
fn valid_inputs_parse() {
    assert!(GENESIS.parse::<Header>().is_ok());
    // The mutations start from scenarios that go all the way to a decision.
    assert!(run_scenario(SCENARIO));
    assert!(run_scenario(SITE));
    assert!(EconBenchReport::from_json(BENCH, Path::new("b.json")).is_ok());
    assert!(!number_spans(SCENARIO).is_empty());
    let loaded = [
        Loaded::from_json("a.json", BENCH).unwrap(),
        Loaded::from_json("b.json", BENCH).unwrap(),
    ];
    assert!(compare(&loaded).is_ok());
}
