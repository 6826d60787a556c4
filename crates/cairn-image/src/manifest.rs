//! The JSON documents of Docker and OCI images, only as far as cairn reads them.

use serde::Deserialize;
use std::collections::BTreeMap;

/// One entry of a `docker save` manifest.json.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct DockerManifestEntry {
    pub config: String,
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    pub layers: Vec<String>,
}

/// Per-layer `json` of the legacy (pre-1.10) `docker save` format.
#[derive(Deserialize, Debug)]
pub struct LegacyLayerJson {
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub container_config: Option<LegacyContainerConfig>,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Deserialize, Debug)]
pub struct LegacyContainerConfig {
    #[serde(rename = "Cmd", default)]
    pub cmd: Option<Vec<String>>,
}

#[derive(Deserialize, Debug, Clone)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    pub digest: String,
    pub size: u64,
    #[serde(default)]
    pub platform: Option<PlatformJson>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Debug, Clone)]
pub struct PlatformJson {
    pub architecture: String,
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
}

/// An OCI image index or a Docker manifest list, or an OCI image manifest / Docker v2
/// manifest: they are told apart by which of `manifests` and `layers` is present.
#[derive(Deserialize, Debug)]
pub struct ManifestOrIndex {
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Option<Vec<Descriptor>>,
    /// Read leniently: values that are not strings are left out (see [`string_map`]).
    #[serde(default, deserialize_with = "string_map")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// A map of strings, keeping only the entries whose value is a string: labels and
/// annotations are informative, and one odd value must not make an image unreadable.
fn string_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    let raw = Option::<serde_json::Value>::deserialize(d)?;
    Ok(raw.and_then(|v| match v {
        serde_json::Value::Object(m) => Some(
            m.into_iter()
                .filter_map(|(k, v)| Some((k, v.as_str()?.to_owned())))
                .collect(),
        ),
        _ => None,
    }))
}

/// A string, or nothing when the value is not one: an informative field.
fn string_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let raw = Option::<serde_json::Value>::deserialize(d)?;
    Ok(raw.and_then(|v| v.as_str().map(str::to_owned)))
}

#[derive(Deserialize, Debug, Default)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
    /// Who made the image (`docker commit --author`, the `MAINTAINER` instruction).
    #[serde(default, deserialize_with = "string_or_none")]
    pub author: Option<String>,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
    #[serde(default)]
    pub history: Option<Vec<History>>,
    /// The container configuration, read only for its labels.
    #[serde(default)]
    pub config: Option<ContainerConfig>,
}

#[derive(Deserialize, Debug, Default)]
pub struct ContainerConfig {
    #[serde(rename = "Labels", default, deserialize_with = "string_map")]
    pub labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Debug, Default)]
pub struct RootFs {
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

#[derive(Deserialize, Debug, Default, Clone)]
pub struct History {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub empty_layer: Option<bool>,
}

pub fn parse<T: serde::de::DeserializeOwned>(file: &str, bytes: &[u8]) -> crate::Result<T> {
    serde_json::from_slice(bytes).map_err(|source| crate::Error::Json {
        file: file.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Labels and annotations are informative: a value that is not a string, or a map that
    /// is not one, is left out, and the image stays readable.
    #[test]
    fn odd_labels_and_annotations_are_left_out() {
        let c: ImageConfig = parse(
            "config",
            br#"{"config": {"Labels": {"a": "1", "b": 2, "c": null}}}"#,
        )
        .unwrap();
        let labels = c.config.unwrap().labels.unwrap();
        assert_eq!(
            labels.into_iter().collect::<Vec<_>>(),
            [("a".into(), "1".into())]
        );
        let c: ImageConfig = parse("config", br#"{"config": {"Labels": 5}}"#).unwrap();
        assert!(c.config.unwrap().labels.is_none());
        let m: ManifestOrIndex = parse("m", br#"{"layers": [], "annotations": [1]}"#).unwrap();
        assert!(m.annotations.is_none());
    }
}
