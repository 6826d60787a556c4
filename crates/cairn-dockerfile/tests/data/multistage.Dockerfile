ARG BASE=debian
ARG TAG=bookworm
ARG VERSION=1.0
ARG UNUSED
FROM ${BASE}:${TAG}-slim AS base
RUN echo "VERSION=$VERSION"
ARG VERSION
ARG TAG
ENV APP_HOME=/opt/app VERSION_COPY=$VERSION
ENV PATH=$APP_HOME/bin:$PATH
WORKDIR ${APP_HOME}
ARG LEVEL=${VERSION:-none}-${MISSING:-dflt}-${VERSION:+set}-${EMPTY-unset}-${VERSION+plus}
RUN make VERSION=${VERSION}

FROM base AS build
ARG VERSION
ENV VERSION=from-env
ARG VERSION=from-arg
LABEL version="$VERSION" escaped=\$VERSION quoted='$VERSION'
RUN build.sh

FROM alpine:3.20 AS tools
RUN apk add --no-cache jq

FROM BUILD
COPY --from=tools /usr/bin/jq /usr/bin/jq
COPY --from=0 /etc/os-release /base-os-release
COPY --from=nginx:latest /etc/nginx /etc/nginx
EXPOSE 80 443/udp
USER ${UID:-1000}
