//! `econ --scenario FILE`: TOML parsed, resolved and evaluated to a decision.
#![no_main]

use std::path::Path;

use hashwatt::economics::decision::evaluate;
use hashwatt::economics::scenario::{Scenario, ScenarioFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.toml");
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(file) = ScenarioFile::from_toml(text, path)
        && let Ok(scenario) = Scenario::resolve(Some((&file, path)), None, None)
    {
        let _ = evaluate(&scenario);
    }
});
