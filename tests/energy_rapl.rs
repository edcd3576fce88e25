//! The RAPL meter on fake powercap trees: package domains only, summed,
//! counter wraps, unreadable and malformed files, no RAPL at all.

use std::fs;
use std::path::Path;
use std::time::Duration;

use hashwatt::energy::{EnergyError, Joules, PowerMeter, RaplMeter, Window};

fn zone(root: &Path, dir: &str, name: &str, energy_uj: u64, max_uj: u64) {
    let d = root.join(dir);
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("name"), format!("{name}\n")).unwrap();
    fs::write(d.join("energy_uj"), format!("{energy_uj}\n")).unwrap();
    fs::write(d.join("max_energy_range_uj"), format!("{max_uj}\n")).unwrap();
}

fn set(root: &Path, dir: &str, energy_uj: u64) {
    fs::write(root.join(dir).join("energy_uj"), format!("{energy_uj}\n")).unwrap();
}

const WINDOW: Window = Window {
    elapsed: Duration::from_secs(1),
    utilization: 1.0,
};

/// Two packages plus zones that must not be counted: a package's core
/// sub-zone, the MMIO twin of package 0 (Intel exposes both), and psys.
fn machine(root: &Path) {
    zone(
        root,
        "intel-rapl:0",
        "package-0",
        1_000_000,
        262_143_328_850,
    );
    zone(root, "intel-rapl:0:0", "core", 500_000, 262_143_328_850);
    zone(
        root,
        "intel-rapl:1",
        "package-1",
        7_000_000,
        262_143_328_850,
    );
    zone(
        root,
        "intel-rapl-mmio:0",
        "package-0",
        9_000_000,
        262_143_328_850,
    );
    zone(root, "intel-rapl:2", "psys", 3_000_000, 262_143_328_850);
}

#[test]
fn sums_package_domains_only() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    machine(root);
    let mut meter = RaplMeter::open(root).unwrap();
    assert_eq!(meter.domains(), vec!["package-0", "package-1"]);
    let source = meter.source();
    assert!(source.is_measured());
    assert_eq!(
        source.to_string(),
        "measured: RAPL package energy (package-0 + package-1)"
    );
    meter.start().unwrap();
    set(root, "intel-rapl:0", 3_500_000); // +2.5 J
    set(root, "intel-rapl:1", 8_000_000); // +1 J
    set(root, "intel-rapl:0:0", 90_000_000); // a sub-zone: ignored
    set(root, "intel-rapl-mmio:0", 90_000_000); // ignored
    set(root, "intel-rapl:2", 90_000_000); // psys: ignored
    assert_eq!(meter.stop(WINDOW).unwrap(), Joules(3.5));
    // A new window starts from the counters' current values.
    meter.start().unwrap();
    set(root, "intel-rapl:1", 8_250_000);
    assert_eq!(meter.stop(WINDOW).unwrap(), Joules(0.25));
    assert!(matches!(meter.stop(WINDOW), Err(EnergyError::NotStarted)));
}

#[test]
fn adds_dram_domains_with_their_own_wrap() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    machine(root);
    // Server RAPL: DRAM is a sub-zone of each package, with its own range.
    zone(root, "intel-rapl:0:1", "dram", 60_000, 65_532_610_987);
    zone(
        root,
        "intel-rapl:1:0",
        "dram",
        65_532_000_000,
        65_532_610_987,
    );
    let mut meter = RaplMeter::open(root).unwrap();
    assert_eq!(
        meter.domains(),
        vec!["package-0", "dram", "package-1", "dram"]
    );
    assert_eq!(
        meter.source().to_string(),
        "measured: RAPL package and DRAM energy (package-0 + dram + package-1 + dram)"
    );
    meter.start().unwrap();
    set(root, "intel-rapl:0", 2_000_000); // +1 J
    set(root, "intel-rapl:0:1", 560_000); // +0.5 J
    set(root, "intel-rapl:1:0", 389_013); // wrapped: 610_987 + 389_013 = 1 J
    set(root, "intel-rapl:0:0", 90_000_000); // core: part of the package, ignored
    let j = meter.stop(WINDOW).unwrap();
    assert!((j.0 - 2.5).abs() < 1e-12, "{j:?}");
    // DRAM alone is not a CPU meter.
    let tmp = tempfile::tempdir().unwrap();
    zone(tmp.path(), "intel-rapl:0:1", "dram", 0, 1_000);
    assert!(matches!(
        RaplMeter::open(tmp.path()),
        Err(EnergyError::RaplUnavailable { .. })
    ));
}

#[test]
fn counts_wraps_at_max_energy_range() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    zone(root, "intel-rapl:0", "package-0", 900_000, 1_000_000);
    let mut meter = RaplMeter::open(root).unwrap();
    meter.start().unwrap();
    // Three wraps in one window, each seen by a sample.
    set(root, "intel-rapl:0", 100_000); // 100k to the wrap + 100k = 0.2 J
    meter.sample().unwrap();
    set(root, "intel-rapl:0", 950_000); // +0.85 J
    meter.sample().unwrap();
    set(root, "intel-rapl:0", 50_000); // 50k + 50k = 0.1 J
    let j = meter.stop(WINDOW).unwrap();
    assert!((j.0 - 1.15).abs() < 1e-12, "{j:?}");
}

#[test]
fn stateless_readings_for_criterion() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    zone(root, "intel-rapl:0", "package-0", 990, 1_000);
    zone(root, "intel-rapl:1", "package-1", 10, 1_000);
    let meter = RaplMeter::open(root).unwrap();
    let before = meter.read_counters().unwrap();
    assert_eq!(before, vec![990, 10]);
    set(root, "intel-rapl:0", 5); // wrapped: 10 + 5 µJ
    set(root, "intel-rapl:1", 30); // 20 µJ
    let after = meter.read_counters().unwrap();
    let j = meter.energy_between(&before, &after);
    assert!((j.0 - 35e-6).abs() < 1e-18, "{j:?}");
}

#[test]
fn missing_powercap_says_where_it_looked() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("powercap");
    let err = RaplMeter::open(&root).unwrap_err();
    assert!(matches!(err, EnergyError::RaplUnavailable { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains(&root.display().to_string()), "{text}");
    assert!(text.contains("no powercap directory"), "{text}");

    // A powercap directory without package domains (e.g. only other zones).
    fs::create_dir_all(&root).unwrap();
    zone(&root, "intel-rapl:0", "psys", 1, 10);
    let err = RaplMeter::open(&root).unwrap_err();
    assert!(
        err.to_string().contains("no intel-rapl:N package domain"),
        "{err}"
    );
}

#[test]
fn unreadable_counter_names_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    zone(root, "intel-rapl:0", "package-0", 1, 10);
    let energy = root.join("intel-rapl:0").join("energy_uj");
    // A directory in place of the file: unreadable for root too.
    fs::remove_file(&energy).unwrap();
    fs::create_dir(&energy).unwrap();
    let err = RaplMeter::open(root).unwrap_err();
    assert!(matches!(err, EnergyError::RaplUnreadable { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("cannot read {}: ", energy.display())),
        "{err}"
    );
}

#[test]
fn malformed_counter_shows_the_value() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    zone(root, "intel-rapl:0", "package-0", 1, 10);
    fs::write(root.join("intel-rapl:0").join("energy_uj"), "lots\n").unwrap();
    let err = RaplMeter::open(root).unwrap_err();
    assert!(err.to_string().contains("found \"lots\""), "{err}");
}

#[cfg(unix)]
#[test]
fn root_only_counter_explains_why() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    zone(root, "intel-rapl:0", "package-0", 1, 10);
    let energy = root.join("intel-rapl:0").join("energy_uj");
    fs::set_permissions(&energy, fs::Permissions::from_mode(0o000)).unwrap();
    let result = RaplMeter::open(root);
    if fs::read(&energy).is_ok() {
        // Running as root: permissions do not stop reads (the mapping of
        // PermissionDenied is unit-tested in `energy::rapl`).
        assert!(result.is_ok());
    } else {
        let err = result.unwrap_err();
        assert!(
            err.to_string().contains("root only since Linux 5.10"),
            "{err}"
        );
    }
}
