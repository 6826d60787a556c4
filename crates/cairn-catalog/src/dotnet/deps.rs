//! A .NET application's `NAME.deps.json`: the libraries the build resolved (`libraries`,
//! each a `package` from NuGet, a `project` of the solution, or a `reference`), and per
//! target the assets each contributes and what it depends on. Only the runtime target's
//! entries (`runtimeTarget.name`) are what the application runs with.

use serde_json::Value;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Library {
    pub name: String,
    pub version: String,
    /// `package`, `project` or `reference`.
    pub kind: String,
    pub sha512: Option<String>,
    pub path: Option<String>,
    /// Runtime, native or resource assets in the runtime target.
    pub has_assets: bool,
    /// Dependencies by name.
    pub dependencies: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Deps {
    pub runtime_target: String,
    pub libraries: Vec<Library>,
}

/// Most libraries read from one file.
pub(crate) const MAX_LIBRARIES: usize = 100_000;

impl Deps {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Deps, String> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let o = v.as_object().ok_or("not a JSON object")?;
        let libraries = o
            .get("libraries")
            .and_then(Value::as_object)
            .ok_or("has no \"libraries\" object")?;
        if libraries.len() > MAX_LIBRARIES {
            return Err(format!(
                "lists {} libraries, over the {MAX_LIBRARIES}-library limit",
                libraries.len()
            ));
        }
        let targets = o.get("targets").and_then(Value::as_object);
        let runtime_target = o
            .get("runtimeTarget")
            .and_then(|t| t.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        // The runtime target's entries; without one named, the first target's by name.
        let target = targets.and_then(|t| {
            t.get(&runtime_target)
                .or_else(|| t.values().next())
                .and_then(Value::as_object)
        });
        let mut out = Deps {
            runtime_target,
            libraries: Vec::new(),
        };
        for (key, lib) in libraries {
            let Some((name, version)) = key.split_once('/') else {
                continue;
            };
            let s = |k: &str| {
                lib.get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let entry = target.and_then(|t| t.get(key));
            if target.is_some() && entry.is_none() {
                continue; // not part of what the application runs with
            }
            let has_assets = entry.is_some_and(|e| {
                ["runtime", "native", "resources", "runtimeTargets"]
                    .iter()
                    .any(|k| {
                        e.get(*k)
                            .and_then(Value::as_object)
                            .is_some_and(|m| !m.is_empty())
                    })
            });
            let dependencies = entry
                .and_then(|e| e.get("dependencies"))
                .and_then(Value::as_object)
                .map(|d| d.keys().cloned().collect())
                .unwrap_or_default();
            out.libraries.push(Library {
                name: name.to_owned(),
                version: version.to_owned(),
                kind: s("type").unwrap_or_default(),
                sha512: s("sha512"),
                path: s("path"),
                has_assets,
                dependencies,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_target_packages_and_projects() {
        let d = Deps::parse(br#"{"runtimeTarget":{"name":".NETCoreApp,Version=v6.0"},
          "targets":{".NETCoreApp,Version=v6.0":{
             "app/1.0.0":{"dependencies":{"Newtonsoft.Json":"13.0.1"},"runtime":{"app.dll":{}}},
             "Newtonsoft.Json/13.0.1":{"runtime":{"lib/net6.0/Newtonsoft.Json.dll":{}}},
             "Build.Tool/1.0":{}}},
          "libraries":{"app/1.0.0":{"type":"project","serviceable":false,"sha512":""},
             "Newtonsoft.Json/13.0.1":{"type":"package","sha512":"sha512-x","path":"newtonsoft.json/13.0.1"},
             "Build.Tool/1.0":{"type":"package"},
             "Compile.Only/2.0":{"type":"package"}}}"#).unwrap();
        let names: Vec<_> = d
            .libraries
            .iter()
            .map(|l| (l.name.as_str(), l.kind.as_str(), l.has_assets))
            .collect();
        assert_eq!(
            names,
            [
                ("Build.Tool", "package", false),
                ("Newtonsoft.Json", "package", true),
                ("app", "project", true)
            ]
        );
        assert_eq!(d.libraries[2].dependencies, ["Newtonsoft.Json"]);
        assert!(Deps::parse(b"{}").unwrap_err().contains("libraries"));
    }
}
