//! Reads struct and enum layouts from a compiled BPF object's BTF, so tests
//! can prove the Rust mirrors match what the kernel side writes.

use libbpf_rs::Btf;
use libbpf_rs::btf::types::{Enum, MemberAttr, Struct};

/// A struct's members as (name, byte offset), and its size.
pub fn struct_layout(object: &[u8], name: &str) -> Result<(Vec<(String, usize)>, usize), String> {
    let btf = Btf::from_raw("layout", object)
        .map_err(|e| format!("cannot read BTF: {e}"))?
        .ok_or("the object has no BTF")?;
    let ty: Struct<'_> = btf
        .type_by_name(name)
        .ok_or_else(|| format!("struct {name} is not in the BTF"))?;
    let size = libbpf_rs::HasSize::size(&ty);
    let members = ty
        .iter()
        .map(|member| {
            let offset_bits = match member.attr {
                MemberAttr::Normal { offset } => offset,
                MemberAttr::BitField { offset, .. } => offset,
            };
            let name = member
                .name
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, offset_bits as usize / 8)
        })
        .collect();
    Ok((members, size))
}

/// An enum's (name, value) pairs.
pub fn enum_values(object: &[u8], name: &str) -> Result<Vec<(String, i64)>, String> {
    let btf = Btf::from_raw("layout", object)
        .map_err(|e| format!("cannot read BTF: {e}"))?
        .ok_or("the object has no BTF")?;
    let ty: Enum<'_> = btf
        .type_by_name(name)
        .ok_or_else(|| format!("enum {name} is not in the BTF"))?;
    Ok(ty
        .iter()
        .map(|member| {
            let name = member
                .name
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, member.value)
        })
        .collect())
}

/// Checks the layouts every object shares with the core (counters, config,
/// owner record) against the core's constants.
pub fn check_shared_layouts(object: &[u8]) -> Result<(), String> {
    use crate::loader::counter;
    let expected_counters = vec![
        ("COUNTER_EMITTED".to_owned(), i64::from(counter::EMITTED)),
        ("COUNTER_LOST".to_owned(), i64::from(counter::LOST)),
        ("COUNTER_MAP_FULL".to_owned(), i64::from(counter::MAP_FULL)),
        ("COUNTER_OWNER_UNKNOWN".to_owned(), i64::from(counter::OWNER_UNKNOWN)),
        ("COUNTER_MAX".to_owned(), counter::COUNT as i64),
    ];
    let counters = enum_values(object, "interceptor_counter")?;
    if counters != expected_counters {
        return Err(format!(
            "enum interceptor_counter is {counters:?}, the core expects {expected_counters:?}"
        ));
    }
    let config = struct_layout(object, "interceptor_config")?;
    let expected_config = (
        vec![("use_perf_buffer".to_owned(), 0), ("wakeup_batch_bytes".to_owned(), 4)],
        8,
    );
    if config != expected_config {
        return Err(format!(
            "struct interceptor_config is {config:?}, the core writes {expected_config:?}"
        ));
    }
    Ok(())
}
