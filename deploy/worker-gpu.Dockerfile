# A worker on NVIDIA GPUs. @tensorflow/tfjs-node-gpu 4.22 links libtensorflow
# 2.9.1, built for CUDA 11.2 and cuDNN 8.1 (tfjs-node README, "GPU support"),
# so the image starts from NVIDIA's CUDA 11.2 / cuDNN 8 runtime. The host
# needs the NVIDIA driver (>= 450) and the NVIDIA container toolkit.
# Build from the repository root (the tfjs-node-gpu install downloads libtensorflow):
#   docker build -f deploy/worker-gpu.Dockerfile -t gradfleet/worker-gpu:0.1.0 .
FROM node:20-bullseye-slim AS node

FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 AS build
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && apt-get update && apt-get install -y --no-install-recommends python3 make g++ ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY proto proto
COPY shared shared
COPY coordinator coordinator
COPY worker worker
COPY test test
COPY bench bench
RUN npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev \
 && node -e "require('@tensorflow/tfjs-node-gpu')"

FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04
COPY --from=node /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/proto proto
# Datasets streamed from the coordinator are cached here.
VOLUME /cache
ENTRYPOINT ["node", "dist/coordinator/cli/main.js", "worker"]
CMD ["--backend", "tensorflow-gpu", "--cache-dir", "/cache", "--token-file", "/run/secrets/gradfleet-token"]
