//! The file list of a working copy, to tell what an install added and what
//! a purge left: every path with its type, mode, owner and link target, and
//! every regular file's checksum.
//!
//! Left out, as package-manager state and logs rather than anything a
//! package installs: /var/log, /var/cache (apt's downloads, debconf,
//! ldconfig's aux-cache), /var/lib/apt (indexes, and extended_states:
//! apt's marks of what it installed automatically) and /var/lib/dpkg except
//! its info/ directory (so a package's maintainer scripts and file lists
//! must be gone after its purge too). /tmp holds the test's own files.
//! Directory sizes and times are not compared: they change when entries
//! come and go even if the set of entries ends up the same.

use std::collections::BTreeMap;

use super::chroot::Chroot;

const PRUNE: &str = r"\( -path /tmp -o -path /var/log -o -path /var/cache -o -path /var/lib/apt \
    -o \( -path '/var/lib/dpkg/*' ! -path /var/lib/dpkg/info ! -path '/var/lib/dpkg/info/*' \) \) -prune";

/// Path -> "type mode owner:group [-> target] [md5]".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing(BTreeMap<String, String>);

impl Listing {
    /// Lists the whole working copy (its own file system only: -xdev).
    pub fn take(chroot: &Chroot) -> Result<Self, String> {
        let attributes = chroot.sh(&format!("find / -xdev {PRUNE} -o -printf '%p\\t%y %m %u:%g %l\\0'"))?;
        let sums = chroot.sh(&format!("find / -xdev {PRUNE} -o -type f -print0 | xargs -0 md5sum -z"))?;
        let mut paths = BTreeMap::new();
        for record in attributes.split('\0').filter(|r| !r.is_empty()) {
            let (path, attributes) = record
                .split_once('\t')
                .ok_or_else(|| format!("find printed {record:?}"))?;
            paths.insert(path.to_owned(), attributes.trim_end().to_owned());
        }
        for record in sums.split('\0').filter(|r| !r.is_empty()) {
            let (sum, path) = record
                .split_once("  ")
                .ok_or_else(|| format!("md5sum printed {record:?}"))?;
            let entry = paths
                .get_mut(path)
                .ok_or_else(|| format!("{path} has a checksum but no entry"))?;
            entry.push(' ');
            entry.push_str(sum);
        }
        Ok(Self(paths))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// What differs from `before`: "+ path" (new), "- path" (gone) and
    /// "~ path: old -> new" (changed), in path order.
    pub fn changes_since(&self, before: &Listing) -> Vec<String> {
        let mut changes = Vec::new();
        for (path, attributes) in &before.0 {
            match self.0.get(path) {
                None => changes.push(format!("- {path} ({attributes})")),
                Some(now) if now != attributes => changes.push(format!("~ {path}: {attributes} -> {now}")),
                Some(_) => {}
            }
        }
        for (path, attributes) in &self.0 {
            if !before.0.contains_key(path) {
                changes.push(format!("+ {path} ({attributes})"));
            }
        }
        changes.sort_by(|a, b| a[2..].cmp(&b[2..]));
        changes
    }
}
