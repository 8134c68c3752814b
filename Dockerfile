# syntax=docker/dockerfile:1
# histeq-array pod image. Three stages so the runtime image holds only production
# dependencies and compiled JavaScript: no compiler, no dev dependencies, no npm cache.
#   docker build -t histeq-array:0.1.0 .
ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies only, installed exactly from the lockfile.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Compile TypeScript with the full dev toolchain; only dist/src leaves this stage.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json && chmod 0755 dist/src/cli/main.js

FROM ${NODE_IMAGE} AS runtime
# The app writes only to /shared (the ReadWriteMany volume) and /tmp (an emptyDir), so the
# root filesystem can be mounted read-only.
ENV NODE_ENV=production \
    SHARED_DIR=/shared \
    TMPDIR=/tmp \
    PORT=8080
WORKDIR /app
# libdeflate: the pool threads deflate TIFF chunks with it (through koffi), a quarter less CPU
# than Node's zlib; without it they fall back to zlib.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libdeflate0 \
    && rm -rf /var/lib/apt/lists/*
# Owned by root (COPY's default): the app user can read its code but never rewrite it.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY public ./public
# `histeq equalize …` and `histeq demo <name>` on the PATH (kubectl exec). Node resolves the
# symlink, so the CLI's relative imports still load from /app/dist/src.
RUN ln -s /app/dist/src/cli/main.js /usr/local/bin/histeq \
    && mkdir -p /shared \
    && chown node:node /shared
# The image's own non-root user (uid/gid 1000); the manifests pin the same ids.
USER node
EXPOSE 8080
# Node is PID 1 and handles SIGTERM itself (src/main.ts drains tasks, hands over leadership,
# then exits), so no init shim is needed; the pod never spawns children that could be orphaned.
CMD ["node", "dist/src/main.js"]
