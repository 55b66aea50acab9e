//! The filter options as one spec in the libraries' grammar (evaluated in
//! the kernel): each option's values become terms of one key, which OR;
//! different keys AND.

use crate::args::FilterArgs;

/// The spec the options say (empty: everything).
pub fn spec(filters: &FilterArgs) -> String {
    let mut terms: Vec<String> = Vec::new();
    let mut add = |key: &str, values: Vec<String>| terms.extend(values.into_iter().map(|v| format!("{key}={v}")));
    add("pid", filters.pid.iter().map(u32::to_string).collect());
    add("uid", filters.uid.iter().map(u32::to_string).collect());
    add("comm", filters.comm.clone());
    add("port", filters.port.iter().map(u16::to_string).collect());
    add("lport", filters.lport.iter().map(u16::to_string).collect());
    add("rport", filters.rport.iter().map(u16::to_string).collect());
    let families = [(filters.ipv4, "4"), (filters.ipv6, "6")];
    add(
        "family",
        families
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, f)| (*f).to_owned())
            .collect(),
    );
    add(
        "cgroup",
        filters.cgroup.iter().map(|p| p.display().to_string()).collect(),
    );
    add("netns", filters.netns.clone());
    if let Some(extra) = filters.filter.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        terms.push(extra.to_owned());
    }
    terms.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_map_to_terms() {
        let filters = FilterArgs {
            pid: vec![1, 2],
            comm: vec!["curl".into()],
            port: vec![80, 443],
            rport: vec![53],
            ipv4: true,
            netns: vec!["/proc/self/ns/net".into()],
            filter: Some("addr=192.0.2.0/24".into()),
            ..FilterArgs::default()
        };
        assert_eq!(
            spec(&filters),
            "pid=1,pid=2,comm=curl,port=80,port=443,rport=53,family=4,netns=/proc/self/ns/net,addr=192.0.2.0/24"
        );
        assert_eq!(spec(&FilterArgs::default()), "");
        assert_eq!(ebpf_interceptor::check_filter(&spec(&filters)), Ok(()));
    }
}
