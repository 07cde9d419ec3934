# syntax=docker/dockerfile:1
# sie-server, CPU image: docker build -t sie-server .
#   docker run -p 8080:8080 -v sie-models:/models-cache sie-server serve -m sentence-transformers/all-MiniLM-L6-v2

# ---- build: compile the native addon (CMake) and the TypeScript, keep production dependencies only
FROM node:20.20-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake g++ make nlohmann-json3-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.json CMakeLists.txt ./
COPY scripts ./scripts
COPY native ./native
COPY bindings ./bindings
# npm ci builds the addon once (scripts/install-addon.mjs); prebuild makes the portable binary
# (baseline x86-64 with AVX-512/AVX2 kernels chosen at run time, libstdc++ linked in).
RUN npm ci --ignore-scripts=false && npm run prebuild
COPY lib ./lib
COPY bench ./bench
COPY test ./test
RUN npm run build:ts && npm prune --omit=dev

# ---- runtime: node, the compiled server, the prebuilt addon; no compiler, runs as a non-root user
FROM node:20.20-bookworm-slim AS runtime
RUN groupadd --gid 10001 sie && useradd --uid 10001 --gid sie --home-dir /app --no-create-home --shell /usr/sbin/nologin sie \
 && mkdir -p /models-cache && chown sie:sie /models-cache
WORKDIR /app
COPY --from=build --chown=sie:sie /src/package.json ./package.json
COPY --from=build --chown=sie:sie /src/node_modules ./node_modules
COPY --from=build --chown=sie:sie /src/prebuilds ./prebuilds
COPY --from=build --chown=sie:sie /src/dist/lib ./dist/lib
ENV NODE_ENV=production \
    HF_HOME=/models-cache \
    SIE_HOST=0.0.0.0 \
    SIE_PORT=8080
VOLUME ["/models-cache"]
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/lib/cli/sie-server.js"]
CMD ["serve"]
