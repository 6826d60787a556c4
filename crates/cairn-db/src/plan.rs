//! Fan-out plans: a fleet's images split into shards for a scheduler's array job (Slurm job
//! arrays, Kubernetes Indexed Jobs, AWS Batch array jobs), images that share layers kept
//! together so that each worker downloads a shared layer once.
//!
//! Images are placed one at a time, largest first, each on the shard where it adds the
//! fewest downloads — the bytes of its layers that shard does not have yet — among the
//! shards whose decoding work (every image's layers count: each image is decoded) stays
//! under an even share plus a tenth plus the largest image; ties go to the shard with less
//! work. A fleet on one base image still spreads, because of that cap.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::Error;

/// Images in one plan.
pub const MAX_IMAGES: usize = 1_000_000;
/// Shards in one plan.
pub const MAX_SHARDS: usize = 100_000;
/// Bytes of a plan file or of a reference list or `kubectl` listing read to make one.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

/// One image of a plan: pinned to the digest the planner saw, named as the user named it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanImage {
    /// `REGISTRY/REPOSITORY[:TAG]`, without the digest.
    pub reference: String,
    pub repository: String,
    pub tag: String,
    /// The manifest digest the scan must find.
    pub digest: String,
    /// Compressed layer digests, bottom first, and their sizes.
    pub layers: Vec<(String, u64)>,
    pub shard: usize,
}

impl PlanImage {
    /// What a worker scans: the repository at the planned digest.
    pub fn pinned(&self) -> String {
        format!("{}@{}", self.repository, self.digest)
    }
}

/// A plan: every image once, each in one shard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub version: u32,
    pub shards: usize,
    pub images: Vec<PlanImage>,
    /// Layer bytes over all images, counting a shared layer once per image.
    pub bytes_per_image: u64,
    /// Layer bytes counting each distinct layer once.
    pub bytes_distinct: u64,
    /// What the shards download in all (each distinct layer once per shard that has it).
    pub bytes_planned: u64,
}

/// An image as the planner sees it, before placement.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub reference: String,
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub layers: Vec<(String, u64)>,
}

impl Plan {
    /// Places `images` (duplicates, the same repository, tag and digest twice, dropped) on
    /// `shards` shards.
    pub fn make(images: Vec<Candidate>, shards: usize) -> Result<Plan, Error> {
        if shards == 0 || shards > MAX_SHARDS {
            return Err(Error::Invalid(format!(
                "{shards} shards: between 1 and {MAX_SHARDS}"
            )));
        }
        if images.len() > MAX_IMAGES {
            return Err(Error::Invalid(format!(
                "{} images (limit {MAX_IMAGES})",
                images.len()
            )));
        }
        let mut seen = BTreeSet::new();
        let mut images: Vec<Candidate> = images
            .into_iter()
            .filter(|c| seen.insert((c.repository.clone(), c.tag.clone(), c.digest.clone())))
            .collect();
        let size = |c: &Candidate| c.layers.iter().map(|l| l.1).sum::<u64>();
        images.sort_by(|a, b| {
            size(b)
                .cmp(&size(a))
                .then_with(|| a.reference.cmp(&b.reference))
        });
        // A worker downloads each layer it has not seen, but decodes every image's layers:
        // placement saves downloads, a cap on decoding keeps the shards even.
        let total: u64 = images.iter().map(size).sum();
        let biggest = images.first().map_or(0, size);
        let cap = total.div_ceil(shards as u64) + total / (10 * shards as u64) + biggest;
        let mut have: Vec<BTreeSet<String>> = vec![BTreeSet::new(); shards];
        let mut load = vec![0u64; shards];
        let mut fetched = vec![0u64; shards];
        let mut out = Vec::with_capacity(images.len());
        let mut distinct = BTreeMap::new();
        let mut per_image = 0u64;
        for c in images {
            let n = size(&c);
            let add = |s: usize| -> u64 {
                c.layers
                    .iter()
                    .filter(|l| !have[s].contains(&l.0))
                    .map(|l| l.1)
                    .sum()
            };
            let s = (0..shards)
                .filter(|&s| load[s] + n <= cap)
                .min_by_key(|&s| (add(s), load[s], s))
                .unwrap_or_else(|| (0..shards).min_by_key(|&s| (load[s], s)).unwrap_or(0));
            fetched[s] += add(s);
            load[s] += n;
            for l in &c.layers {
                have[s].insert(l.0.clone());
                distinct.insert(l.0.clone(), l.1);
                per_image += l.1;
            }
            out.push(PlanImage {
                reference: c.reference,
                repository: c.repository,
                tag: c.tag,
                digest: c.digest,
                layers: c.layers,
                shard: s,
            });
        }
        out.sort_by(|a, b| (a.shard, &a.reference).cmp(&(b.shard, &b.reference)));
        Ok(Plan {
            version: 1,
            shards,
            images: out,
            bytes_per_image: per_image,
            bytes_distinct: distinct.values().sum(),
            bytes_planned: fetched.iter().sum(),
        })
    }

    /// Reads a plan file written by [`Plan::to_json`].
    pub fn read(bytes: &[u8]) -> Result<Plan, Error> {
        if bytes.len() as u64 > MAX_INPUT_BYTES {
            return Err(Error::Invalid(format!(
                "a plan of {} bytes (limit {MAX_INPUT_BYTES})",
                bytes.len()
            )));
        }
        let p: Plan = serde_json::from_slice(bytes)
            .map_err(|e| Error::Invalid(format!("not a plan: {e}")))?;
        if p.version != 1 {
            return Err(Error::Invalid(format!(
                "plan version {} (this cairn reads 1)",
                p.version
            )));
        }
        if p.shards == 0 || p.shards > MAX_SHARDS || p.images.len() > MAX_IMAGES {
            return Err(Error::Invalid("a plan over the limits".into()));
        }
        if let Some(i) = p.images.iter().find(|i| i.shard >= p.shards) {
            return Err(Error::Invalid(format!(
                "{} is in shard {} of a {}-shard plan",
                i.reference, i.shard, p.shards
            )));
        }
        Ok(p)
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a plan serializes");
        s.push('\n');
        s
    }

    /// The images of shard `i`.
    pub fn shard(&self, i: usize) -> impl Iterator<Item = &PlanImage> {
        self.images.iter().filter(move |im| im.shard == i)
    }
}

/// The array index a scheduler gives the task: `JOB_COMPLETION_INDEX` (Kubernetes Indexed
/// Jobs), `SLURM_ARRAY_TASK_ID` (Slurm job arrays), `AWS_BATCH_JOB_ARRAY_INDEX` (AWS Batch
/// array jobs), the first one set, with the variable's name.
pub fn shard_from_env(
    get: impl Fn(&str) -> Option<String>,
) -> Option<Result<(usize, &'static str), Error>> {
    for var in [
        "JOB_COMPLETION_INDEX",
        "SLURM_ARRAY_TASK_ID",
        "AWS_BATCH_JOB_ARRAY_INDEX",
    ] {
        if let Some(v) = get(var).filter(|v| !v.is_empty()) {
            return Some(
                v.trim()
                    .parse::<usize>()
                    .map(|i| (i, var))
                    .map_err(|_| Error::Invalid(format!("{var}={v:?} is not a shard index"))),
            );
        }
    }
    None
}

/// Image references in a list: one per line, `#` comments and blank lines skipped.
pub fn references_from_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The images a cluster runs, from `kubectl get pods -o json` (a `List` or `PodList`, or one
/// `Pod`): every container, init container and ephemeral container, pinned to the digest
/// the kubelet reports (`status.*ContainerStatuses[].imageID`) when it reports one.
pub fn references_from_kubectl(json: &[u8]) -> Result<Vec<String>, Error> {
    let v: serde_json::Value = serde_json::from_slice(json)
        .map_err(|e| Error::Invalid(format!("not kubectl JSON output: {e}")))?;
    let pods: Vec<&serde_json::Value> = match v["kind"].as_str() {
        Some("Pod") => vec![&v],
        Some("List" | "PodList") => v["items"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        k => {
            return Err(Error::Invalid(format!(
                "kubectl output of kind {k:?}: expected a Pod, PodList or List"
            )))
        }
    };
    let mut out = BTreeSet::new();
    for pod in pods {
        if pod["kind"].as_str().is_some_and(|k| k != "Pod") {
            continue;
        }
        // imageID per container name, from the statuses.
        let mut ids = BTreeMap::new();
        for key in [
            "containerStatuses",
            "initContainerStatuses",
            "ephemeralContainerStatuses",
        ] {
            for st in pod["status"][key].as_array().into_iter().flatten() {
                if let (Some(n), Some(id)) = (st["name"].as_str(), st["imageID"].as_str()) {
                    ids.insert(n.to_owned(), id.to_owned());
                }
            }
        }
        for key in ["containers", "initContainers", "ephemeralContainers"] {
            for c in pod["spec"][key].as_array().into_iter().flatten() {
                let Some(image) = c["image"].as_str().filter(|i| !i.is_empty()) else {
                    continue;
                };
                let digest = c["name"]
                    .as_str()
                    .and_then(|n| ids.get(n))
                    .and_then(|id| id.rsplit_once('@').map(|(_, d)| d.to_owned()))
                    .filter(|d| d.starts_with("sha256:"));
                let base = image.split('@').next().unwrap_or(image);
                out.insert(match digest {
                    Some(d) => format!("{base}@{d}"),
                    None => image.to_owned(),
                });
            }
        }
        if out.len() > MAX_IMAGES {
            return Err(Error::Invalid(format!("more than {MAX_IMAGES} images")));
        }
    }
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, layers: &[(&str, u64)]) -> Candidate {
        Candidate {
            reference: name.into(),
            repository: name.into(),
            tag: String::new(),
            digest: format!("sha256:{name}"),
            layers: layers.iter().map(|(d, s)| (d.to_string(), *s)).collect(),
        }
    }

    #[test]
    fn shared_layers_stay_together_and_work_spreads() {
        let images = vec![
            c("a1", &[("base-a", 100), ("a1", 10)]),
            c("a2", &[("base-a", 100), ("a2", 10)]),
            c("b1", &[("base-b", 100), ("b1", 10)]),
            c("b2", &[("base-b", 100), ("b2", 10)]),
        ];
        let p = Plan::make(images, 2).unwrap();
        let shard = |n: &str| p.images.iter().find(|i| i.reference == n).unwrap().shard;
        assert_eq!(shard("a1"), shard("a2"));
        assert_eq!(shard("b1"), shard("b2"));
        assert_ne!(shard("a1"), shard("b1"));
        assert_eq!(p.bytes_distinct, 240);
        assert_eq!(p.bytes_planned, 240);
        assert_eq!(p.bytes_per_image, 440);
        // One shard: everything in it.
        let p = Plan::make(p.images.iter().map(|i| c(&i.reference, &[])).collect(), 1).unwrap();
        assert!(p.images.iter().all(|i| i.shard == 0));
        assert!(Plan::make(vec![], 0).is_err());
    }

    #[test]
    fn plans_round_trip_and_bad_ones_are_refused() {
        let p = Plan::make(vec![c("x", &[("l", 1)])], 3).unwrap();
        assert_eq!(Plan::read(p.to_json().as_bytes()).unwrap(), p);
        let mut bad = p.clone();
        bad.images[0].shard = 3;
        assert!(Plan::read(bad.to_json().as_bytes()).is_err());
        assert!(Plan::read(b"{}").is_err());
    }

    #[test]
    fn shard_indexes_from_the_schedulers() {
        let env = |k: &str| (k == "SLURM_ARRAY_TASK_ID").then(|| "3".to_owned());
        assert_eq!(
            shard_from_env(env).unwrap().unwrap(),
            (3, "SLURM_ARRAY_TASK_ID")
        );
        let env = |k: &str| (k == "JOB_COMPLETION_INDEX").then(|| "x".to_owned());
        assert!(shard_from_env(env).unwrap().is_err());
        assert!(shard_from_env(|_| None).is_none());
    }

    #[test]
    fn kubectl_listing() {
        let j = br#"{"kind":"List","items":[{"kind":"Pod",
          "spec":{"containers":[{"name":"web","image":"nginx:1.25"},{"name":"side","image":"busybox"}],
                  "initContainers":[{"name":"init","image":"alpine:3.19"}]},
          "status":{"containerStatuses":[{"name":"web","imageID":"docker-pullable://nginx@sha256:abc"}]}}]}"#;
        assert_eq!(
            references_from_kubectl(j).unwrap(),
            ["alpine:3.19", "busybox", "nginx:1.25@sha256:abc"]
        );
        assert!(references_from_kubectl(br#"{"kind":"Service"}"#).is_err());
        assert_eq!(references_from_list("a\n# c\n\n b # x\n"), ["a", "b"]);
    }
}
