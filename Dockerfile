# rc-recordings in a container: build with the dev tools, run with the runtime dependencies only.
#   docker build -t rc-recordings .
#   docker run --rm -v rc-config:/config rc-recordings --version
# See docs/container.md (volumes, the shared token store, Kubernetes CronJob and Deployment).

ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: the TypeScript compiler and the sources, nothing of which reaches the image ---
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No lifecycle scripts: `prepare` would build before the sources are copied; esbuild's postinstall is for the
# test tools only.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: Node, the runtime dependencies, the built CLI; run as the unprivileged `node` user ---
FROM ${NODE_IMAGE}
# A container has no OS keychain: the profile lives in a plain 0600 file on the /config volume (or, for many
# pods sharing one login, in a bucket: docs/container.md).
ENV NODE_ENV=production RC_RECORDINGS_STORE=file XDG_CONFIG_HOME=/config
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /src/dist ./dist
RUN mkdir -p /config /data && chown node:node /config /data
USER node
VOLUME ["/config"]
# rc-recordings handles SIGTERM itself, also as PID 1: no new transfer starts, transfers in flight stop as
# resumable partials, the locks are released, exit 130 (watch: 0). Stop grace: give it 30 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/bin/rc-recordings.js"]
CMD ["--help"]
