# The coordinator: no GPU needed (it averages gradients and applies the
# optimizer on the CPU through the wasm backend). Build from the repository root:
#   docker build -f deploy/coordinator.Dockerfile -t gradfleet/coordinator:0.1.0 .
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY proto proto
COPY shared shared
COPY coordinator coordinator
COPY worker worker
COPY test test
COPY bench bench
RUN npm ci --no-audit --no-fund --omit=optional && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/proto proto
# Runs, checkpoints and summaries: mount a persistent volume here.
VOLUME /runs
# 50051: workers and `gradfleet status` (gRPC).
EXPOSE 50051
USER node
ENTRYPOINT ["node", "dist/coordinator/cli/main.js", "coordinator"]
CMD ["--host", "0.0.0.0", "--port", "50051", "--token-file", "/run/secrets/gradfleet-token", "--run-dir", "/runs/current", "--resume", "auto"]
