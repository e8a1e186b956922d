# refund-eligibility: gRPC on 50051, Prometheus metrics on 9090.
#   docker build -t refund-eligibility .
#   docker run --rm -p 50051:50051 -p 9090:9090 refund-eligibility
# Every flag is also an environment variable (REFUND_ELIGIBILITY_*); see the README.

# --- build ------------------------------------------------------------------
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src

# Dependencies first, in their own layer: the manifest, the lock file, the
# build script with its inputs (the wire contract and the holiday table),
# with empty stand-ins for the crate's targets. This layer is rebuilt only when one of those files changes.
COPY Cargo.toml Cargo.lock build.rs ./
COPY proto ./proto
COPY data ./data
COPY deploy/docker/stub-targets.sh /usr/local/bin/stub-targets
RUN sh /usr/local/bin/stub-targets \
 && cargo build --release --locked \
 && rm -rf src

# Then the source. Touching the entry points makes Cargo rebuild the crate
# over the stand-ins, whatever the copied files' timestamps.
COPY src ./src
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked \
 && cp target/release/refund-eligibility /refund-eligibility

# --- runtime ----------------------------------------------------------------
# glibc and libgcc from Debian 12, no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /refund-eligibility /usr/local/bin/refund-eligibility
# The image's `nonroot` user, by number so Kubernetes can check runAsNonRoot.
USER 65532:65532
EXPOSE 50051 9090
ENTRYPOINT ["/usr/local/bin/refund-eligibility"]
CMD ["serve"]
