//! `map_history` on BuildKit-style and legacy-builder-style histories.

use cairn_dockerfile::{map_history, parse, parse_with_args, HistoryEntry};

fn entries(created_by: &[&str]) -> Vec<HistoryEntry> {
    created_by
        .iter()
        .map(|c| HistoryEntry {
            created_by: Some(c.to_string()),
            ..HistoryEntry::default()
        })
        .collect()
}

const DOCKERFILE: &str = r#"ARG VERSION=1.2
FROM debian:bookworm AS base
ARG VERSION
ENV PATH=/opt/bin:/usr/bin
RUN apt-get update && \
    apt-get install -y curl
WORKDIR /app

FROM golang:1.22 AS tools
RUN go install example.com/tool@latest

FROM base AS final
COPY --from=tools /go/bin/tool /usr/local/bin/tool
COPY app.conf /etc/app.conf
LABEL org.opencontainers.image.version="${VERSION}"
EXPOSE 8080
USER nobody
CMD ["tool", "serve"]
"#;

#[test]
fn buildkit_history_maps_target_chain_and_skips_base_entries() {
    let df = parse(DOCKERFILE).unwrap();
    let history = entries(&[
        "# debian.sh --arch 'amd64' out/ 'bookworm' '@1716163200'",
        "ARG VERSION=1.2",
        "ENV PATH=/opt/bin:/usr/bin",
        "RUN |1 VERSION=1.2 /bin/sh -c apt-get update &&     apt-get install -y curl # buildkit",
        "WORKDIR /app",
        "COPY /go/bin/tool /usr/local/bin/tool # buildkit",
        "COPY app.conf /etc/app.conf # buildkit",
        // ARGs do not carry over into a stage built FROM another: VERSION is empty here.
        "LABEL org.opencontainers.image.version=",
        "EXPOSE map[8080/tcp:{}]",
        "USER nobody",
        "CMD [\"tool\" \"serve\"]",
    ]);
    // Instruction indices: 0 global ARG, 1 FROM, 2 ARG, 3 ENV, 4 RUN, 5 WORKDIR, 6 FROM tools,
    // 7 RUN (tools, not in the chain), 8 FROM base, 9.. the final stage.
    let want = [
        None,
        Some(2),
        Some(3),
        Some(4),
        Some(5),
        Some(9),
        Some(10),
        Some(11),
        Some(12),
        Some(13),
        Some(14),
    ];
    assert_eq!(map_history(&df, None, &history), want);
    // A named target maps only its own chain.
    let tools = entries(&[
        "CMD [\"bash\"]",
        "RUN /bin/sh -c go install example.com/tool@latest # buildkit",
    ]);
    assert_eq!(map_history(&df, Some("tools"), &tools), [None, Some(7)]);
    assert_eq!(map_history(&df, Some("nope"), &tools), [None, None]);
}

#[test]
fn legacy_builder_history() {
    let df = parse_with_args(DOCKERFILE, &Default::default()).unwrap();
    let history = entries(&[
        "/bin/sh -c #(nop) ADD file:5c7e4b4d1f in / ",
        "/bin/sh -c #(nop)  CMD [\"bash\"]",
        "/bin/sh -c #(nop)  ARG VERSION",
        "/bin/sh -c #(nop)  ENV PATH=/opt/bin:/usr/bin",
        "|1 VERSION=1.2 /bin/sh -c apt-get update &&     apt-get install -y curl",
        "/bin/sh -c #(nop) WORKDIR /app",
        "/bin/sh -c #(nop) COPY file:9a1f0c in /usr/local/bin/tool ",
        "/bin/sh -c #(nop) COPY file:77aa21 in /etc/app.conf ",
        "/bin/sh -c #(nop)  LABEL org.opencontainers.image.version=",
        "/bin/sh -c #(nop)  EXPOSE 8080",
        "/bin/sh -c #(nop)  USER nobody",
        "/bin/sh -c #(nop)  CMD [\"tool\" \"serve\"]",
    ]);
    let want = [
        None,
        None,
        Some(2),
        Some(3),
        Some(4),
        Some(5),
        Some(9),
        Some(10),
        Some(11),
        Some(12),
        Some(13),
        Some(14),
    ];
    assert_eq!(map_history(&df, None, &history), want);
}

#[test]
fn missing_entries_and_shell_form_cmd() {
    // Builders that write no ARG entry, a shell-form CMD, an exec-form RUN and heredoc RUN.
    let df = parse(
        "FROM alpine\nARG X=1\nRUN [\"echo\", \"hi\"]\nRUN <<EOF\necho a\nEOF\nCMD echo $X\n",
    )
    .unwrap();
    let history = entries(&[
        "ADD alpine-minirootfs.tar.gz / # buildkit",
        "CMD [\"/bin/sh\"]",
        "RUN |1 X=1 echo hi # buildkit",
        "RUN |1 X=1 /bin/sh -c <<EOF\necho a\nEOF # buildkit",
        "CMD [\"/bin/sh\" \"-c\" \"echo $X\"]",
    ]);
    assert_eq!(
        map_history(&df, None, &history),
        [None, None, Some(2), Some(3), Some(4)]
    );
    let none: Vec<HistoryEntry> = vec![HistoryEntry::default()];
    assert_eq!(map_history(&df, None, &none), [None]);
}
