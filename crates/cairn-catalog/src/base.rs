//! Which of an image's layers are its base image's: the image it was built `FROM`.
//!
//! Two ways, the better first. Given the base image itself (`--base`), its layers are the
//! longest common prefix of both images' diff ids: exact. Otherwise the build history
//! tells: an image built on another ends the base's steps with the base's `CMD` or
//! `ENTRYPOINT` (every official base image has one), so the last such step that is
//! followed by a step making a layer closes the base. The base's name and digest are read
//! from the `org.opencontainers.image.base.*` annotations (or labels) when present.

use cairn_image::{Image, Step};
use cairn_sbom::BaseImage;

const NAME: &str = "org.opencontainers.image.base.name";
const DIGEST: &str = "org.opencontainers.image.base.digest";

/// The base image of `image`: compared with `base` when given, else read from the history.
pub fn detect(image: &Image, base: Option<&Image>) -> Option<BaseImage> {
    let (layers, from) = match base {
        Some(b) => (common_prefix(image, b), "base-image"),
        None => (from_history(&image.steps)?, "history"),
    };
    let stated = |key| crate::stated(image, key);
    let name = stated(NAME).or_else(|| base.map(|b| b.name.clone()));
    let digest = stated(DIGEST).or_else(|| base.and_then(|b| b.manifest_digest.clone()));
    Some(BaseImage {
        name,
        digest,
        layers,
        from: from.into(),
    })
}

/// How many layers from the bottom both images share, by diff id (the digest of the
/// uncompressed layer, the same however it was compressed or stored).
fn common_prefix(image: &Image, base: &Image) -> usize {
    image
        .layers
        .iter()
        .zip(&base.layers)
        .take_while(|(a, b)| a.diff_id.is_some() && a.diff_id == b.diff_id)
        .count()
}

/// The layers made before the last `CMD`/`ENTRYPOINT` step that a layer-making step
/// follows; `None` when there is none, or no layer precedes it.
fn from_history(steps: &[Step]) -> Option<usize> {
    let last_layer_step = steps.iter().rposition(|s| s.layer.is_some())?;
    let boundary = steps[..last_layer_step]
        .iter()
        .rposition(|s| s.created_by.as_deref().is_some_and(ends_a_base))?;
    let layers = steps[..boundary]
        .iter()
        .filter(|s| s.layer.is_some())
        .count();
    (layers > 0).then_some(layers)
}

/// Whether a history step is an image's closing `CMD` or `ENTRYPOINT`, as the legacy
/// builder (`/bin/sh -c #(nop)  CMD ["bash"]`) and BuildKit (`CMD ["bash"]`) write it.
fn ends_a_base(created_by: &str) -> bool {
    let s = created_by.trim_start();
    let s = s.strip_prefix("/bin/sh -c").unwrap_or(s).trim_start();
    let s = s.strip_prefix("#(nop)").unwrap_or(s).trim_start();
    let word = s.split_whitespace().next().unwrap_or("");
    word.eq_ignore_ascii_case("CMD") || word.eq_ignore_ascii_case("ENTRYPOINT")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(list: &[(&str, bool)]) -> Vec<Step> {
        let mut n = 0;
        list.iter()
            .map(|(cmd, empty)| Step {
                created_by: Some(cmd.to_string()),
                empty: *empty,
                layer: (!empty).then(|| {
                    n += 1;
                    n - 1
                }),
                ..Step::default()
            })
            .collect()
    }

    #[test]
    fn the_last_cmd_followed_by_a_layer_closes_the_base() {
        let s = steps(&[
            ("/bin/sh -c #(nop) ADD file:abc in / ", false),
            ("/bin/sh -c #(nop)  CMD [\"bash\"]", true),
            ("RUN /bin/sh -c apt-get install -y curl # buildkit", false),
            ("COPY app /app # buildkit", false),
            ("CMD [\"/app\"]", true),
        ]);
        assert_eq!(from_history(&s), Some(1));
    }

    #[test]
    fn a_base_of_a_base_counts_up_to_the_nearest_one() {
        let s = steps(&[
            ("ADD file:abc in /", false),
            ("CMD [\"sh\"]", true),
            ("RUN apk add python3", false),
            ("ENTRYPOINT [\"python3\"]", true),
            ("COPY . /src", false),
        ]);
        assert_eq!(from_history(&s), Some(2));
    }

    #[test]
    fn no_cmd_before_a_layer_means_no_base_known() {
        let s = steps(&[
            ("ADD rootfs.tar /", false),
            ("RUN apt-get install x", false),
        ]);
        assert_eq!(from_history(&s), None);
        let s = steps(&[("ADD rootfs.tar /", false), ("CMD [\"sh\"]", true)]);
        assert_eq!(from_history(&s), None);
    }
}
