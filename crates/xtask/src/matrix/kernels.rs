//! The kernels of the matrix: crates/xtask/kernels.conf, and fetching each
//! as a Debian .deb with apt through a private configuration under the cache
//! (the machine's own sources and lists are never touched), unpacked with
//! dpkg -x.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command::run;

/// A row of crates/xtask/kernels.conf.
#[derive(Debug, Clone)]
pub struct Kernel {
    pub id: String,
    pub package: Option<String>,
    pub version: String,
    /// Library name -> supported paths.
    pub supported: BTreeMap<String, Vec<String>>,
}

/// The kernels the matrix tests.
pub fn read_conf() -> Result<Vec<Kernel>, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels.conf");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() != 5 {
                return Err(format!("kernels.conf: expected 5 fields: {line}"));
            }
            let paths = |s: &str| s.split(',').filter(|p| !p.is_empty()).map(str::to_owned).collect();
            Ok(Kernel {
                id: f[0].to_owned(),
                package: (f[1] != "-").then(|| f[1].to_owned()),
                version: f[2].to_owned(),
                supported: [("tcp".to_owned(), paths(f[3])), ("udp".to_owned(), paths(f[4]))].into(),
            })
        })
        .collect()
}

/// apt-get with the private configuration under `cache`.
fn apt(cache: &Path, tool: &str) -> Command {
    let dir = cache.join("apt");
    let mut command = Command::new(tool);
    for (key, value) in [
        ("Dir::Etc::sourcelist", dir.join("sources.list")),
        ("Dir::Etc::sourceparts", dir.join("parts")),
        ("Dir::State::Lists", dir.join("lists")),
        ("Dir::Cache", dir.join("cache")),
        ("Dir::State::status", PathBuf::from("/dev/null")),
    ] {
        command.arg("-o").arg(format!("{key}={}", value.display()));
    }
    command.args(["-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root"]);
    command
}

fn prepare_apt(cache: &Path) -> Result<(), String> {
    let dir = cache.join("apt");
    for sub in ["lists/partial", "cache/archives/partial", "parts"] {
        fs::create_dir_all(dir.join(sub)).map_err(|e| e.to_string())?;
    }
    let keyring = "[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]";
    let sources: String = [
        ("debian", "bookworm"),
        ("debian-security", "bookworm-security"),
        ("debian", "bullseye"),
        ("debian-security", "bullseye-security"),
    ]
    .iter()
    .map(|(archive, suite)| format!("deb {keyring} http://deb.debian.org/{archive} {suite} main\n"))
    .collect();
    fs::write(dir.join("sources.list"), sources).map_err(|e| e.to_string())?;
    run(apt(cache, "apt-get").args(["update", "-qq"])).map(drop)
}

/// The same series with any ABI number: the newest one stands in for a
/// pinned package the archive dropped.
fn series_pattern(package: &str) -> String {
    let (stem, tail) = package.split_once("-cloud-").unwrap_or((package, "amd64"));
    let abi_end = stem.find('+').unwrap_or(stem.len());
    let abi_start = stem[..abi_end]
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let escape = |s: &str| s.replace('.', "\\.").replace('+', "\\+");
    format!(
        "^{}[0-9]+{}-cloud-{tail}$",
        escape(&stem[..abi_start]),
        escape(&stem[abi_end..])
    )
}

/// Downloads and unpacks the kernel (cached); returns its vmlinuz and the
/// version really used.
pub fn fetch_kernel(cache: &Path, kernel: &Kernel, apt_ready: &mut bool) -> Result<(PathBuf, String), String> {
    let package = kernel.package.as_deref().ok_or("the host row has no package")?;
    let debs = cache.join("debs");
    fs::create_dir_all(&debs).map_err(|e| e.to_string())?;
    let find_deb = |name: &str, version: Option<&str>| -> Option<PathBuf> {
        let prefix = format!("{name}_{}", version.map(|v| v.replace(':', "%3a")).unwrap_or_default());
        fs::read_dir(&debs)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&prefix) && n.to_string_lossy().ends_with(".deb"))
            })
    };
    let (deb, version) = match find_deb(package, Some(&kernel.version)) {
        Some(deb) => (deb, kernel.version.clone()),
        None => {
            if !*apt_ready {
                prepare_apt(cache)?;
                *apt_ready = true;
            }
            let pinned = format!("{package}={}", kernel.version);
            if run(apt(cache, "apt-get")
                .current_dir(&debs)
                .args(["download", "-qq", &pinned]))
            .is_ok()
            {
                (
                    find_deb(package, Some(&kernel.version)).ok_or("downloaded .deb not found")?,
                    kernel.version.clone(),
                )
            } else {
                let listing = run(apt(cache, "apt-cache").args(["search", "--names-only", &series_pattern(package)]))?;
                let mut names: Vec<&str> = listing.lines().filter_map(|l| l.split_whitespace().next()).collect();
                names.sort_by_key(|n| {
                    n.split(|c: char| !c.is_ascii_digit())
                        .filter_map(|d| d.parse::<u64>().ok())
                        .collect::<Vec<_>>()
                });
                let newest = names.last().ok_or(format!("no {package} series in Debian's archive"))?;
                println!(
                    "xtask matrix: {pinned} is no longer in Debian's archive; testing {newest} instead (update crates/xtask/kernels.conf)"
                );
                run(apt(cache, "apt-get")
                    .current_dir(&debs)
                    .args(["download", "-qq", newest]))?;
                let deb = find_deb(newest, None).ok_or("downloaded .deb not found")?;
                (deb, newest.to_string())
            }
        }
    };
    let unpacked = cache.join("unpacked").join(deb.file_stem().unwrap_or_default());
    if !unpacked.join("boot").is_dir() {
        fs::create_dir_all(&unpacked).map_err(|e| e.to_string())?;
        run(Command::new("dpkg").arg("-x").arg(&deb).arg(&unpacked))?;
    }
    let vmlinuz = fs::read_dir(unpacked.join("boot"))
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .ok_or("no vmlinuz in the package")?;
    Ok((vmlinuz, version))
}
