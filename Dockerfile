# One image for every Herald service; the APP build argument (or the command) picks which.
#   docker build -t herald .            docker run herald node apps/gateway/dist/main.js
# Multi-stage: the build stage compiles TypeScript; the runtime stage has production
# dependencies only and runs as the unprivileged `node` user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/gateway/package.json apps/gateway/
COPY apps/orchestrator/package.json apps/orchestrator/
COPY apps/worker/package.json apps/worker/
COPY apps/persistence/package.json apps/persistence/
COPY libs/contracts/package.json libs/contracts/
COPY libs/config/package.json libs/config/
COPY libs/observability/package.json libs/observability/
COPY libs/messaging/package.json libs/messaging/
COPY libs/agents/package.json libs/agents/
COPY libs/markdown-chunker/package.json libs/markdown-chunker/
COPY libs/db/package.json libs/db/
COPY libs/auth/package.json libs/auth/
COPY libs/client/package.json libs/client/
# Exactly the lockfile's versions (it lists the optional native packages of every platform,
# so it installs on amd64 and arm64 alike); npm ci stops if package.json and it disagree.
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY apps apps
COPY libs libs
COPY docs docs
COPY tools tools
# The services, then the web client bundle the gateway serves (apps/gateway/public/dist); then dev dependencies go.
RUN npx tsc -b tsconfig.build.json && node tools/build-web.mjs && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules node_modules
COPY --from=build --chown=node:node /app/apps apps
COPY --from=build --chown=node:node /app/libs libs
COPY --from=build --chown=node:node /app/docs docs
USER node
ARG APP=gateway
ENV APP=${APP}
# 3000: the gateway's HTTP + Socket.IO; 9464: HEALTH_PORT of the other services (probes, metrics).
EXPOSE 3000 9464
CMD ["sh", "-c", "exec node apps/${APP}/dist/main.js"]
