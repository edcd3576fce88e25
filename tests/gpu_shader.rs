//! The WGSL kernel, checked with naga (wgpu's shader compiler) on any machine:
//! it parses and validates, its uniform matches the host's `GpuParams` byte for
//! byte, and its folded constants equal the values derived from FIPS 180-4.
#![cfg(feature = "gpu")]

use hashwatt::gpu::{ENTRY_POINT, SHADER};
use hashwatt::hazmat::{GpuParams, H0, K};
use hashwatt::sha256::scalar;
use naga::valid::{Capabilities, ValidationFlags, Validator};

fn module() -> naga::Module {
    match naga::front::wgsl::parse_str(SHADER) {
        Ok(m) => m,
        Err(e) => panic!("WGSL parse error:\n{}", e.emit_to_string(SHADER)),
    }
}

#[test]
fn shader_parses_and_validates() {
    let module = module();
    let info = Validator::new(ValidationFlags::all(), Capabilities::default()).validate(&module);
    if let Err(e) = info {
        panic!("naga validation failed:\n{}", e.emit_to_string(SHADER));
    }
    let entry = module
        .entry_points
        .iter()
        .find(|e| e.name == ENTRY_POINT)
        .expect("entry point");
    assert_eq!(entry.stage, naga::ShaderStage::Compute);
}

#[test]
fn tunables_are_override_constants() {
    let module = module();
    let mut names: Vec<&str> = module
        .overrides
        .iter()
        .filter_map(|(_, o)| o.name.as_deref())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "CLAIM_BY_WORKGROUP",
            "NONCES_PER_INVOCATION",
            "WORKGROUP_SIZE"
        ]
    );
}

#[test]
fn uniform_layout_matches_gpu_params() {
    let module = module();
    let mut layouter = naga::proc::Layouter::default();
    layouter.update(module.to_ctx()).expect("layout");
    let (handle, ty) = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some("Params"))
        .expect("struct Params");
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        panic!("Params is not a struct");
    };
    assert_eq!(*span as usize, size_of::<GpuParams>());
    assert_eq!(layouter[handle].size as usize, size_of::<GpuParams>());
    let offset = |name: &str| {
        members
            .iter()
            .find(|m| m.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("member {name}"))
            .offset as usize
    };
    use std::mem::offset_of;
    let pre = offset_of!(GpuParams, folded.pre);
    type P = hashwatt::hazmat::NoncePrecomp;
    assert_eq!(offset("midstate_lo"), pre + offset_of!(P, midstate));
    assert_eq!(offset("midstate_hi"), pre + offset_of!(P, midstate) + 16);
    assert_eq!(offset("state3_lo"), pre + offset_of!(P, state3));
    assert_eq!(offset("state3_hi"), pre + offset_of!(P, state3) + 16);
    assert_eq!(offset("w0"), pre + offset_of!(P, w));
    assert_eq!(offset("t1_base3"), pre + offset_of!(P, t1_base3));
    assert_eq!(offset("w16"), pre + offset_of!(P, w16));
    assert_eq!(offset("w17"), pre + offset_of!(P, w17));
    assert_eq!(offset("w18_base"), pre + offset_of!(P, w18_base));
    assert_eq!(offset("w19_base"), pre + offset_of!(P, w19_base));
    assert_eq!(offset("target_top"), pre + offset_of!(P, target_top));
    assert_eq!(offset("w31_base"), offset_of!(GpuParams, folded.w31_base));
    assert_eq!(offset("w32_base"), offset_of!(GpuParams, folded.w32_base));
    assert_eq!(offset("kw16"), offset_of!(GpuParams, folded.kw16));
    assert_eq!(offset("kw17"), offset_of!(GpuParams, folded.kw17));
    assert_eq!(offset("a3"), offset_of!(GpuParams, folded.a3));
    assert_eq!(offset("e3"), offset_of!(GpuParams, folded.e3));
    assert_eq!(offset("base"), offset_of!(GpuParams, base));
    assert_eq!(offset("count"), offset_of!(GpuParams, count));
}

/// The value of a `const NAME: u32 = literal;` in the shader.
fn shader_const(module: &naga::Module, name: &str) -> u32 {
    let (_, c) = module
        .constants
        .iter()
        .find(|(_, c)| c.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("const {name}"));
    match module.global_expressions[c.init] {
        naga::Expression::Literal(naga::Literal::U32(v)) => v,
        ref other => panic!("const {name} is {other:?}, expected a u32 literal"),
    }
}

#[test]
fn folded_constants_match_fips_180_4() {
    let module = module();
    assert_eq!(shader_const(&module, "SSIG0_640"), scalar::sigma0(640));
    assert_eq!(shader_const(&module, "SSIG0_256"), scalar::sigma0(256));
    assert_eq!(shader_const(&module, "SSIG1_256"), scalar::sigma1(256));
    assert_eq!(
        shader_const(&module, "SSIG0_PAD"),
        scalar::sigma0(0x8000_0000)
    );
    // Second hash, round 0 from H0 with W0 = 0: the shader adds W0 to both.
    let mut s = H0;
    scalar::round(&mut s, K[0]);
    assert_eq!(shader_const(&module, "H2_R0_A"), s[0]);
    assert_eq!(shader_const(&module, "H2_R0_E"), s[4]);
}

#[test]
fn round_constants_with_folded_padding_appear_in_the_kernel() {
    // Rounds whose message word is constant padding use K[t] + W[t] as one
    // literal; check each expected literal is in the source.
    let lit = |v: u32| format!("0x{v:08x}u");
    let folded = [
        K[4].wrapping_add(0x8000_0000),
        K[15].wrapping_add(640),
        K[8].wrapping_add(0x8000_0000),
        K[15].wrapping_add(256),
    ];
    for v in folded {
        assert!(
            SHADER.contains(&lit(v)),
            "missing folded constant {}",
            lit(v)
        );
    }
    for (t, k) in K.iter().enumerate().take(15).skip(5) {
        assert!(SHADER.contains(&lit(*k)), "missing K[{t}]");
    }
}
