# syntax=docker/dockerfile:1.7
# check=skip=all

from alpine:3.20
# a comment between instructions
run echo hello \
    # a comment inside a continuation is dropped

    world \
  # and so is a blank line
	again
RUN echo trailing-blanks \   
  after
ENV WIN_PATH=C:\\
ENV NEXT=separate
RUN \
  echo only-continuation
Cmd ["echo", "done"]
