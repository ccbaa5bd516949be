# drainplane: the control plane image. Build from the repository root:
#   docker build -t drainplane .
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY bin bin
COPY src src
COPY ui ui
COPY protos protos
# npm ci builds dist/ (the prepare script); dev dependencies are dropped afterwards.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY bin bin
COPY protos protos
COPY envoy envoy
USER node
ENTRYPOINT ["node", "/app/bin/drainplane.js"]
CMD ["serve", "--config", "/app/envoy/drainplane.yaml", "--state-dir", "/tmp/drainplane"]
