# syntax=docker/dockerfile:1
# costbot container image: a static binary on an empty base image, run as
# an unprivileged user, with no shell or package manager inside.
#
#   docker build -t costbot .
#   docker run --rm costbot version
#   docker run -d --name costbot -p 8080:8080 \
#     -v "$PWD/config.yaml:/etc/costbot/config.yaml:ro" \
#     -v "$PWD/rules:/etc/costbot/rules:ro" \
#     -v costbot-state:/var/lib/costbot \
#     -e CLOUDFLARE_API_TOKEN costbot
#
# See docs/operating.md (state path, listen address, reload, probes).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The build context's .git (not ignored) lets the toolchain stamp the
# revision that `costbot version` prints; it is owned by another uid here.
RUN git config --global --add safe.directory /src
# CGO off: modernc.org/sqlite is pure Go, so the binary is fully static.
# timetzdata embeds the time zone database for schedule.timezone.
RUN CGO_ENABLED=0 go build -trimpath -tags timetzdata -ldflags='-s -w' -o /out/costbot ./cmd/costbot \
	&& /out/costbot version
# The state folder, created here because the final image has no shell.
RUN mkdir -p /out/state && chown 65532:65532 /out/state && chmod 0700 /out/state

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/costbot /usr/local/bin/costbot
COPY --from=build --chown=65532:65532 /out/state /var/lib/costbot
USER 65532:65532
VOLUME /var/lib/costbot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/costbot"]
CMD ["run", "--config", "/etc/costbot/config.yaml"]
