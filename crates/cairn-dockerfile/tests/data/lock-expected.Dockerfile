# syntax=docker/dockerfile:1
ARG PY=3.12
FROM debian:bookworm@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa AS base
RUN apt-get update && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      -o Dpkg::Options::=--force-confdef \
      curl=7.88.1-10 'ca-certificates=20230311' "git=1:2.39.2-1.1" \
      # comment lines inside continuations are dropped by BuildKit
      jq=1.6-2.1 libssl3/bookworm-backports $EXTRA lib*-dev ./local.deb unknown-pkg \
    && rm -rf /var/lib/apt/lists/*
RUN apt install -qq tzdata=2024a-0; apt-get -y install locales=2.36-9 || true

FROM python:${PY}-slim AS py
RUN pip install --no-cache-dir -r requirements.txt requests==2.32.3 Flask[async]==3.0.3 "Django>=4" \
      -e ./src --index-url https://pypi.org/simple . Typing_Extensions==4.12.2
RUN python3 -m pip install -U pip_tools==7.4.1
RUN <<EOF
set -e
pip3 install --upgrade black==24.4.2
npm install -g typescript@5.4.5 @angular/cli@17 @types/node@20.12.7
EOF
RUN cat <<EOF > /requirements.txt
requests
EOF
RUN npm install lodash && npm i --global yarn@1.22.22

FROM alpine:3.20@sha256:1e42bbe2508154c9126d48c2b8a75420c3544343bf86fd041fb7527e017a4b4a
RUN apk add --no-cache --virtual .build-deps -t other-virtual curl=8.9.0-r0 bash=5.2.26-r0 musl~1.2 'gcc>12' nginx@edge
FROM base
COPY --from=py /usr/local /usr/local
