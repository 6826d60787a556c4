//! The trust state machine of the client workflow (specification §5),
//! modelled on python-tuf's `TrustedMetadataSet`. No I/O and no clock: the
//! caller passes bytes and the reference time, and gets back verified
//! metadata or an error that names the attack.
//!
//! Rules:
//! - metadata is loaded in order: root → timestamp → snapshot → targets →
//!   delegated targets; loading an earlier role after a later one is an error;
//! - "intermediate" metadata may be loaded even when expired (or, for
//!   snapshot, not the version timestamp lists): it then only serves as the
//!   rollback baseline for its successor, and the method still returns the
//!   error, so the caller never persists it;
//! - a delegated role is trusted *for a delegator*: reaching the same role
//!   through another delegator re-verifies its signatures against that
//!   delegator's keys and threshold (a diamond must not borrow authority).

use crate::error::{Error, Result};
use crate::keys::verify_threshold;
use crate::metadata::{
    DelegationIndex, Envelope, Role, Root, Rule, Signature, Snapshot, Targets, Timestamp,
};
use std::collections::{BTreeMap, BTreeSet};

/// Targets metadata bytes parsed ahead of [`TrustedSet::update_parsed_targets`].
/// Parsing depends on the bytes alone, so it can run on the threads that fetch
/// them, while the checks that depend on what is trusted stay in order on one.
/// Nothing in it is trusted yet.
pub struct ParsedTargets {
    role: String,
    data: Vec<u8>,
    envelope: Result<Envelope<Targets>>,
}

impl ParsedTargets {
    /// Parses `data` as `role`'s targets metadata ([`Envelope::from_bytes`]);
    /// an error is kept and reported by the update, after the length and
    /// hash checks, as [`TrustedSet::update_delegated_targets`] would.
    pub fn parse(role: &str, data: Vec<u8>) -> Self {
        let envelope = Envelope::from_bytes(role, &data);
        ParsedTargets {
            role: role.to_string(),
            data,
            envelope,
        }
    }

    pub fn role(&self) -> &str {
        &self.role
    }

    /// The bytes as fetched.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

/// Verified metadata, in the order of the client workflow.
pub struct TrustedSet {
    reference_time: i64,
    root: Root,
    timestamp: Option<Timestamp>,
    snapshot: Option<Snapshot>,
    targets: BTreeMap<String, LoadedTargets>,
}

struct LoadedTargets {
    md: Targets,
    signed_bytes: Vec<u8>,
    signatures: Vec<Signature>,
    /// Delegators whose keys and threshold these signatures were checked against.
    verified_by: BTreeSet<String>,
    /// Lookup tables over `md.delegations` (hashed bins can be thousands of roles).
    index: DelegationIndex,
}

impl TrustedSet {
    /// §5.2: load the trusted root. It must be signed by a threshold of its
    /// own root keys; its expiry is not checked yet (an expired root may still
    /// be used to fetch its successor, §5.3.10 checks the final one).
    /// `reference_time` is §5.1's fixed update start time (Unix seconds).
    pub fn new(root_bytes: &[u8], reference_time: i64) -> Result<Self> {
        let env = Envelope::<Root>::from_bytes("root", root_bytes)?;
        let rule = env
            .signed
            .rule("root")
            .expect("validated: root has a root role");
        verify_threshold("root", "root", rule, &env.signed_bytes, &env.signatures)?;
        Ok(TrustedSet {
            reference_time,
            root: env.signed,
            timestamp: None,
            snapshot: None,
            targets: BTreeMap::new(),
        })
    }

    pub fn reference_time(&self) -> i64 {
        self.reference_time
    }
    pub fn root(&self) -> &Root {
        &self.root
    }
    pub fn timestamp(&self) -> Option<&Timestamp> {
        self.timestamp.as_ref()
    }
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref()
    }
    /// Verified targets metadata of `role` (top-level "targets" or delegated).
    pub fn targets(&self, role: &str) -> Option<&Targets> {
        self.targets.get(role).map(|t| &t.md)
    }

    /// §5.3.4–5.3.8: load root version N+1 from `data`.
    pub fn update_root(&mut self, data: &[u8]) -> Result<&Root> {
        if self.timestamp.is_some() {
            return Err(Error::Order("root cannot be updated after timestamp"));
        }
        // 5.3.5 needs version N+1; at u64::MAX there is none: a typed
        // refusal, not an overflow panic or a wrapped "root v0".
        let expected = next_version("root", self.root.version())?;
        let what = format!("root v{expected}");
        let env = Envelope::<Root>::from_bytes(&what, data)?;
        // 5.3.4: signed by a threshold of keys of the trusted root...
        let old_rule = self.root.rule("root").expect("validated");
        verify_threshold(
            &what,
            "trusted root",
            old_rule,
            &env.signed_bytes,
            &env.signatures,
        )?;
        // ...and by a threshold of keys of the new root itself.
        let new_rule = env.signed.rule("root").expect("validated");
        verify_threshold(
            &what,
            "new root",
            new_rule,
            &env.signed_bytes,
            &env.signatures,
        )?;
        // 5.3.5: the version must be exactly N+1 (no rollback, no skipping).
        if env.signed.version() != expected {
            if env.signed.version() < expected {
                return Err(Error::Rollback {
                    role: "root".into(),
                    new: env.signed.version(),
                    trusted: self.root.version(),
                });
            }
            return Err(Error::RootVersion {
                expected,
                found: env.signed.version(),
            });
        }
        // 5.3.6–5.3.8: the new root is trusted; its expiry is checked at 5.3.10.
        self.root = env.signed;
        Ok(&self.root)
    }

    /// §5.4: load timestamp from `data`. Returns [`Error::EqualVersion`] when
    /// the version is the one already trusted (the caller keeps the old file).
    pub fn update_timestamp(&mut self, data: &[u8]) -> Result<&Timestamp> {
        if self.snapshot.is_some() {
            return Err(Error::Order("timestamp cannot be updated after snapshot"));
        }
        // 5.3.10: the final root must not be expired.
        if self.root.is_expired(self.reference_time) {
            return Err(Error::Expired {
                role: "root".into(),
                expires: self.root.expires.as_str().into(),
            });
        }
        // 5.4.1–5.4.2: signed by a threshold of the timestamp keys in root.
        let env = Envelope::<Timestamp>::from_bytes("timestamp", data)?;
        let rule = self.root.rule("timestamp").expect("validated");
        verify_threshold(
            "timestamp",
            "root",
            rule,
            &env.signed_bytes,
            &env.signatures,
        )?;
        // 5.4.3: rollback checks against the trusted timestamp.
        if let Some(old) = &self.timestamp {
            if env.signed.version() < old.version() {
                return Err(Error::Rollback {
                    role: "timestamp".into(),
                    new: env.signed.version(),
                    trusted: old.version(),
                });
            }
            if env.signed.version() == old.version() {
                return Err(Error::EqualVersion {
                    role: "timestamp".into(),
                    version: old.version(),
                });
            }
            let (new_snap, old_snap) = (
                env.signed.snapshot_meta().version.get(),
                old.snapshot_meta().version.get(),
            );
            if new_snap < old_snap {
                return Err(Error::Rollback {
                    role: "snapshot (listed in timestamp)".into(),
                    new: new_snap,
                    trusted: old_snap,
                });
            }
        }
        // Kept even if expired: it is the rollback baseline for a newer one.
        self.timestamp = Some(env.signed);
        // 5.4.4: not expired, or it is only intermediate.
        self.check_final_timestamp()?;
        Ok(self.timestamp.as_ref().expect("just set"))
    }

    fn check_final_timestamp(&self) -> Result<&Timestamp> {
        let ts = self
            .timestamp
            .as_ref()
            .ok_or(Error::Order("snapshot needs a timestamp"))?;
        if ts.is_expired(self.reference_time) {
            return Err(Error::Expired {
                role: "timestamp".into(),
                expires: ts.expires.as_str().into(),
            });
        }
        Ok(ts)
    }

    /// §5.5: load snapshot from `data`. `from_cache` is true for the local
    /// copy, which was checked against a timestamp when it was first trusted:
    /// its hashes are not checked against the current timestamp (it may be
    /// intermediate), its version is (§5.5.4, in the final check).
    pub fn update_snapshot(&mut self, data: &[u8], from_cache: bool) -> Result<&Snapshot> {
        if self.targets.contains_key("targets") {
            return Err(Error::Order("snapshot cannot be updated after targets"));
        }
        let ts = self.check_final_timestamp()?;
        // 5.5.2: length and hashes as listed in timestamp.
        if !from_cache {
            ts.snapshot_meta().verify("snapshot", data)?;
        }
        // 5.5.3: signed by a threshold of the snapshot keys in root.
        let env = Envelope::<Snapshot>::from_bytes("snapshot", data)?;
        let rule = self.root.rule("snapshot").expect("validated");
        verify_threshold("snapshot", "root", rule, &env.signed_bytes, &env.signatures)?;
        // 5.5.5: no targets metadata may disappear or go back in version.
        if let Some(old) = &self.snapshot {
            for (name, old_meta) in &old.meta {
                let Some(new_meta) = env.signed.meta.get(name) else {
                    return Err(Error::RemovedFromSnapshot {
                        role: name.trim_end_matches(".json").into(),
                    });
                };
                if new_meta.version < old_meta.version {
                    return Err(Error::Rollback {
                        role: name.trim_end_matches(".json").into(),
                        new: new_meta.version.get(),
                        trusted: old_meta.version.get(),
                    });
                }
            }
        }
        self.snapshot = Some(env.signed);
        self.check_final_snapshot()?;
        Ok(self.snapshot.as_ref().expect("just set"))
    }

    fn check_final_snapshot(&self) -> Result<&Snapshot> {
        let snap = self
            .snapshot
            .as_ref()
            .ok_or(Error::Order("targets need a snapshot"))?;
        // 5.5.6: not expired.
        if snap.is_expired(self.reference_time) {
            return Err(Error::Expired {
                role: "snapshot".into(),
                expires: snap.expires.as_str().into(),
            });
        }
        // 5.5.4: the version timestamp lists.
        let listed = self.check_final_timestamp()?.snapshot_meta().version.get();
        if snap.version() != listed {
            return Err(Error::VersionMismatch {
                role: "snapshot".into(),
                listed_in: "timestamp".into(),
                expected: listed,
                found: snap.version(),
            });
        }
        Ok(snap)
    }

    /// §5.6: load top-level targets from `data`.
    pub fn update_targets(&mut self, data: &[u8]) -> Result<&Targets> {
        self.update_delegated_targets(data, "targets", "root")
    }

    /// §5.6 (and §5.6.7.2 for delegations): load `role`'s targets metadata,
    /// signed as `delegator` requires.
    pub fn update_delegated_targets(
        &mut self,
        data: &[u8],
        role: &str,
        delegator: &str,
    ) -> Result<&Targets> {
        self.load_delegated_targets(data, None, role, delegator)
    }

    /// [`TrustedSet::update_delegated_targets`] for bytes parsed beforehand
    /// ([`ParsedTargets::parse`], on any thread): the same checks in the same
    /// order, with the same errors. The parsed envelope is used up; the bytes
    /// stay in `parsed` for the caller to persist once they are accepted.
    pub fn update_parsed_targets(
        &mut self,
        parsed: &mut ParsedTargets,
        delegator: &str,
    ) -> Result<&Targets> {
        let env = std::mem::replace(
            &mut parsed.envelope,
            Err(Error::Order("parsed targets metadata loaded twice")),
        );
        self.load_delegated_targets(&parsed.data, Some(env), &parsed.role, delegator)
    }

    fn load_delegated_targets(
        &mut self,
        data: &[u8],
        parsed: Option<Result<Envelope<Targets>>>,
        role: &str,
        delegator: &str,
    ) -> Result<&Targets> {
        let snap = self.check_final_snapshot()?;
        // Extraneous dependencies: only roles the snapshot lists are loaded.
        let meta = snap
            .meta
            .get(&format!("{role}.json"))
            .ok_or_else(|| Error::NotInSnapshot { role: role.into() })?;
        // 5.6.2: length and hashes as listed in snapshot, checked before a
        // parse error of the bytes is reported.
        meta.verify(role, data)?;
        let env = match parsed {
            Some(env) => env?,
            None => Envelope::<Targets>::from_bytes(role, data)?,
        };
        // 5.6.3: signed by a threshold of the keys the delegator lists.
        let rule = self.delegation_rule(role, delegator)?;
        verify_threshold(role, delegator, rule, &env.signed_bytes, &env.signatures)?;
        // 5.6.4: the version snapshot lists (mix-and-match).
        if env.signed.version() != meta.version.get() {
            return Err(Error::VersionMismatch {
                role: role.into(),
                listed_in: "snapshot".into(),
                expected: meta.version.get(),
                found: env.signed.version(),
            });
        }
        // 5.6.5: not expired.
        if env.signed.is_expired(self.reference_time) {
            return Err(Error::Expired {
                role: role.into(),
                expires: env.signed.expires.as_str().into(),
            });
        }
        let index = env
            .signed
            .delegations
            .as_ref()
            .map(DelegationIndex::new)
            .unwrap_or_default();
        let loaded = LoadedTargets {
            index,
            md: env.signed,
            signed_bytes: env.signed_bytes,
            signatures: env.signatures,
            verified_by: BTreeSet::from([delegator.to_string()]),
        };
        self.targets.insert(role.to_string(), loaded);
        Ok(&self.targets[role].md)
    }

    /// Returns already-loaded `role` for use under `delegator`, verifying its
    /// signatures against `delegator`'s keys and threshold if that delegator
    /// has not vouched for it yet. `Ok(None)` when `role` is not loaded.
    pub fn cached_targets_for(&mut self, role: &str, delegator: &str) -> Result<Option<&Targets>> {
        let Some(loaded) = self.targets.get(role) else {
            return Ok(None);
        };
        if !loaded.verified_by.contains(delegator) {
            let rule = self.delegation_rule(role, delegator)?;
            verify_threshold(
                role,
                delegator,
                rule,
                &loaded.signed_bytes,
                &loaded.signatures,
            )?;
            self.targets
                .get_mut(role)
                .expect("present")
                .verified_by
                .insert(delegator.to_string());
        }
        Ok(Some(&self.targets[role].md))
    }

    fn delegation_rule(&self, role: &str, delegator: &str) -> Result<Rule<'_>> {
        let not_delegated = || Error::NotDelegated {
            role: role.into(),
            delegator: delegator.into(),
        };
        if delegator == "root" {
            if role != "targets" {
                return Err(not_delegated());
            }
            return Ok(self.root.rule("targets").expect("validated"));
        }
        let loaded = self
            .targets
            .get(delegator)
            .ok_or(Error::Order("delegated targets need their delegator"))?;
        loaded
            .md
            .delegations
            .as_ref()
            .and_then(|d| loaded.index.rule(d, role))
            .ok_or_else(not_delegated)
    }

    /// §5.6.7.2: the roles loaded `role` delegates `target_path` to, in
    /// order, with their `terminating` flag. Empty when `role` is not loaded
    /// or delegates nothing.
    pub fn roles_for_target(&self, role: &str, target_path: &str) -> Vec<(String, bool)> {
        match self.targets.get(role) {
            Some(LoadedTargets {
                md:
                    Targets {
                        delegations: Some(d),
                        ..
                    },
                index,
                ..
            }) => index.roles_for_target(d, target_path),
            _ => Vec::new(),
        }
    }
}

/// The version after `version` of `role`, or [`Error::VersionOverflow`] when
/// `version` is `u64::MAX`: metadata there has no successor.
pub(crate) fn next_version(role: &str, version: u64) -> Result<u64> {
    version
        .checked_add(1)
        .ok_or_else(|| Error::VersionOverflow {
            role: role.into(),
            version,
        })
}
