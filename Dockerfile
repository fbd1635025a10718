# syntax=docker/dockerfile:1
#
# credbroker: one image, two roles (`serve --role api|worker`, or CREDBROKER_ROLE).
#
#   docker build -t credbroker .
#   docker run --read-only --tmpfs /tmp -p 8080:8080 \
#     -v "$PWD/credbroker.yaml:/etc/credbroker/credbroker.yaml:ro" -v "$PWD/policies:/etc/credbroker/policies:ro" \
#     -e CREDBROKER_SIGNER_KEK -e CREDBROKER_AUDIT_HMAC_KEY -e REDIS_URL=redis://redis:6379/0 \
#     -e CREDBROKER_ROLE=api credbroker
#
# test/integration/docker-runtime.test.ts replays the runtime stage (npm ci --omit=dev on the built output,
# then `credbroker --help` and a short `serve` against Redis) so CI proves these steps without a Docker engine;
# test/unit/docker/dockerfile.test.ts checks the properties below.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: every dependency, TypeScript → dist/ ------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json tsconfig.client.json ./
COPY src ./src
COPY providers ./providers
RUN npm run build

# ---- deps: production dependencies only ---------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

# ---- runtime ------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini is PID 1: it forwards SIGTERM/SIGHUP to node (graceful drain, policy reload) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    CREDBROKER_CONFIG=/etc/credbroker/credbroker.yaml \
    CREDBROKER_HOST=0.0.0.0 \
    CREDBROKER_PORT=8080 \
    CREDBROKER_ROLE=all

WORKDIR /app
# Root-owned and read-only for the broker's user: the process cannot change its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin

# The base image's unprivileged "node" user, numerically so Kubernetes' runAsNonRoot can verify it.
# The broker writes nothing to disk (logs go to stdout): the root filesystem can be read-only; /tmp is
# the only writable path it may ever need.
USER 1000:1000
EXPOSE 8080 8081

# /healthz is served on CREDBROKER_PORT by the api and all roles, and on CREDBROKER_WORKER_PORT (default 8081)
# by the worker role (set CREDBROKER_ROLE=worker rather than `--role worker` so the check knows).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const w=process.env.CREDBROKER_ROLE==='worker';const p=w?(process.env.CREDBROKER_WORKER_PORT||8081):(process.env.CREDBROKER_PORT||8080);fetch('http://127.0.0.1:'+p+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/credbroker.js"]
CMD ["serve"]
