# ---------------------------------------------------------------------------
# Build stage: compile the release binary.
# ---------------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder
WORKDIR /src

# Build the dependency graph first, against placeholder sources, so that the
# (slow) dependency layer is reused as long as the manifests and lock file do
# not change.
COPY Cargo.toml Cargo.lock ./
COPY migration/Cargo.toml migration/Cargo.toml
RUN mkdir -p src migration/src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs migration/src/lib.rs \
 && cargo build --release --locked --bin fundi \
 && rm -rf src migration/src

# Now the real sources. Files embedded at compile time (assets, the SDL
# snapshot) come along; `schema.graphq[l]` is a pattern so the build also
# works when the file is absent.
COPY src src
COPY migration/src migration/src
COPY assets assets
COPY Cargo.toml schema.graphq[l] ./

# COPY keeps the files' original modification times, which may be older than
# the placeholder build above; touch them so Cargo rebuilds the crates.
RUN touch src/lib.rs src/main.rs migration/src/lib.rs \
 && cargo build --release --locked --bin fundi \
 && install -D -m 0755 target/release/fundi /out/fundi

# ---------------------------------------------------------------------------
# Runtime stage: a slim Debian with the binary, run as an unprivileged user.
# ---------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

# ca-certificates: TLS to SMTP, payment and messaging providers.
# tzdata: the IANA time-zone database.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 fundi \
 && useradd --system --uid 10001 --gid fundi --home-dir /var/lib/fundi \
      --no-create-home --shell /usr/sbin/nologin fundi \
 && install -d -o fundi -g fundi -m 0750 /var/lib/fundi

COPY --from=builder /out/fundi /usr/local/bin/fundi

# Listen on every interface inside the container; keep local state (the
# SQLite database when no FUNDI_DATABASE_URL is given, local uploads and
# mail) under /var/lib/fundi. Mount a volume there to keep it.
ENV FUNDI_BIND=0.0.0.0:8080 \
    FUNDI_DATA_DIR=/var/lib/fundi

WORKDIR /var/lib/fundi
# Numeric so that Kubernetes can verify runAsNonRoot.
USER 10001:10001
EXPOSE 8080

# No HEALTHCHECK here: the image carries no HTTP client. docker-compose.yml
# and the Helm chart probe /healthz and /readyz themselves.
ENTRYPOINT ["fundi"]
CMD ["serve"]
