FROM debian:bookworm
RUN <<EOF
apt-get update
apt-get install -y curl
EOF
RUN <<-INDENTED
	echo tabs are stripped
	INDENTED
RUN <<"QUOTED" bash
echo $HOME stays unexpanded
QUOTED
RUN cat <<A > /a && cat <<'B' > /b
first
A
second
B
COPY <<CONF /etc/app.conf
key=value
CONF
RUN ["echo", "<<NOTHEREDOC"]
