# bmcgate: one static binary in a minimal image.
#   docker build -t bmcgate .
#   docker run -v /etc/bmcgate:/etc/bmcgate:ro -v bmcgate-data:/var/lib/bmcgate \
#     -p 2222:2222 bmcgate serve --config /etc/bmcgate/bmcgate.yaml
FROM golang:1.26-bookworm AS build
WORKDIR /src
# honour the toolchain line in go.mod (the patched Go release)
ENV GOTOOLCHAIN=auto
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/bmcgate ./cmd/bmcgate

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bmcgate /usr/local/bin/bmcgate
USER nonroot:nonroot
VOLUME ["/var/lib/bmcgate"]
EXPOSE 2222 8443
ENTRYPOINT ["/usr/local/bin/bmcgate"]
CMD ["serve", "--config", "/etc/bmcgate/bmcgate.yaml"]
