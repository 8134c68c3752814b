# syntax=docker/dockerfile:1
# Multi-stage: build with dev dependencies, run with production dependencies only.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production SHARED_DIR=/shared
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY public ./public
# `histeq equalize …` on the PATH inside the image.
RUN ln -s /app/dist/src/cli/main.js /usr/local/bin/histeq && chmod +x /app/dist/src/cli/main.js
USER node
EXPOSE 8080
# node is PID 1 and handles SIGTERM itself (graceful drain in src/main.ts).
CMD ["node", "dist/src/main.js"]
