# Multi-stage build of the Hotline binaries and the SPA.
# (Not built in this project's CI: its machines run no Docker engine.)

FROM rust:1-bookworm AS backend
WORKDIR /src
COPY . .
RUN cargo build --release --bins -p hotline-backend -p hotline-gateway

FROM debian:bookworm AS spa
# The SPA is built with Debian's wasm-capable toolchain, as frontend/build.sh does.
RUN apt-get update && apt-get install -y --no-install-recommends \
      rustc-web cargo-web rust-web-src lld-22 binaryen ca-certificates build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN frontend/build.sh

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 hotline
COPY --from=backend /src/target/release/hotline /usr/local/bin/hotline
COPY --from=backend /src/target/release/hotline-gateway /usr/local/bin/hotline-gateway
COPY --from=spa /src/frontend/dist /srv/hotline/spa
ENV HOTLINE_SPA_DIR=/srv/hotline/spa HOTLINE_HTTP_ADDR=0.0.0.0:8080 HOTLINE_LOG_FORMAT=json
USER hotline
EXPOSE 8080
CMD ["hotline", "serve"]
