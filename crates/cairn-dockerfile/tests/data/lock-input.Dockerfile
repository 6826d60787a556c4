# syntax=docker/dockerfile:1
ARG PY=3.12
FROM debian:bookworm AS base
RUN apt-get update && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      -o Dpkg::Options::=--force-confdef \
      curl 'ca-certificates' "git" \
      # comment lines inside continuations are dropped by BuildKit
      jq=1.6-2.1 libssl3/bookworm-backports $EXTRA lib*-dev ./local.deb unknown-pkg \
    && rm -rf /var/lib/apt/lists/*
RUN apt install -qq tzdata; apt-get -y install locales || true

FROM python:${PY}-slim AS py
RUN pip install --no-cache-dir -r requirements.txt requests Flask[async] "Django>=4" \
      -e ./src --index-url https://pypi.org/simple . Typing_Extensions
RUN python3 -m pip install -U pip_tools
RUN <<EOF
set -e
pip3 install --upgrade black
npm install -g typescript @angular/cli@17 @types/node
EOF
RUN cat <<EOF > /requirements.txt
requests
EOF
RUN npm install lodash && npm i --global yarn

FROM alpine:3.20@sha256:1e42bbe2508154c9126d48c2b8a75420c3544343bf86fd041fb7527e017a4b4a
RUN apk add --no-cache --virtual .build-deps -t other-virtual curl bash=5.2.26-r0 musl~1.2 'gcc>12' nginx@edge
FROM base
COPY --from=py /usr/local /usr/local
