FROM --platform=$BUILDPLATFORM golang:1.22 AS build
RUN --mount=type=cache,target=/root/.cache --network=none go build ./...
RUN ["go", "test", "./..."]
RUN ['single', 'quotes', 'are', 'not', 'json']
CMD ["unterminated"
ENTRYPOINT exec /app "$@"
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --link --chown=1000:1000 --chmod=0755 ["a b.txt", "/dst/"]
ADD --checksum=sha256:00 https://example.com/x.tgz /x.tgz
HEALTHCHECK --interval=5s CMD curl -f http://localhost/
ONBUILD RUN echo later
COPY -- --not-a-flag /dst
